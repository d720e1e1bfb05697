"""axe-core in the page (npm, pinned by the lock file beside this module): the accessibility
violations a page has, of the impacts that block people."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests import node_packages

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def ensure_installed() -> None:
    node_packages.ensure_installed(HERE, AXE)


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
