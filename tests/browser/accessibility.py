"""axe-core in the page (npm, pinned by the lock file beside this module): the accessibility
violations a page has, of the impacts that block people."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import Page

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def ensure_installed() -> None:
    """`npm ci` from the committed lock file, once per checkout."""
    marker = HERE / "node_modules" / ".package-lock.json"
    if AXE.exists() and marker.exists() and marker.stat().st_mtime >= (HERE / "package-lock.json").stat().st_mtime:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


def blocking_violations(page: Page) -> list[str]:
    """Each serious or critical axe-core violation on the page as `rule: the elements`. The page's
    context must bypass its CSP (`bypass_csp=True`): the CSP, rightly, runs no injected script."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {', '.join(n['target'][0] for n in v['nodes'])}"
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]
