"""Real headless Chromium for the page tests (Playwright), screenshots at two widths, and axe-core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import accessibility
from tests.conftest import ARTIFACTS
from tests.services import ServiceUnavailable, find_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
# An iPhone's width: every page must be usable there without scrolling sideways.
PHONE = {"width": 390, "height": 844}


def chromium_executable() -> str:
    try:
        return find_chromium()
    except ServiceUnavailable as error:
        pytest.exit(str(error), returncode=3)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A page in a fresh browser profile. Its CSP is bypassed only so that axe-core can be injected
    (tests/browser/accessibility.py); what the CSP forbids is tested on the headers themselves."""
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe() -> None:
    accessibility.ensure_installed()


SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def look_at(page: Page, name: str) -> None:
    """Screenshots of the page as it is, at desktop and phone width, under test-artifacts/; at
    phone width nothing may need scrolling sideways, and axe-core may find nothing serious."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}-390px.png"), full_page=True)
        assert not page.evaluate(SCROLLS_SIDEWAYS), f"{name}: the page scrolls sideways at 390 px"
    finally:
        page.set_viewport_size(DESKTOP)
    assert accessibility.blocking_violations(page) == [], name
