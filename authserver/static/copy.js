// Copy buttons (the developer portal's secret): <button data-copy="ID"> copies the text of the
// element ID and says so in the element ID-copied. A file, not inline: the CSP runs no inline script.
"use strict";

for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.dataset.copy}-copied`);
  button.hidden = false; // without this script the text is there to select by hand
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      status.textContent = "Copied.";
    } catch {
      window.getSelection().selectAllChildren(source);
      status.textContent = "Your browser did not allow copying: the secret is selected, copy it with your keyboard.";
    }
  });
}
