"""Browser tests: Playwright's sync API driving Debian's /usr/bin/chromium (never a downloaded one).

Skipped, with the reason, when the browser or the playwright package is absent. The live server
runs in a thread of this process; the Playwright sync API runs an event loop here too, hence
``DJANGO_ALLOW_ASYNC_UNSAFE`` (OPS.md §12).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

CHROMIUM = os.environ.get("BODEGAPOS_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where to save screenshots of the pages (for a human look); unset: no screenshots.
SCREENSHOT_DIR = os.environ.get("BODEGAPOS_E2E_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless chromium per test module; its event loop ends with the module."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM}); apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context (no cookies) at a 1024×768 till screen, Spanish locale."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="es-PE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves ``name.png`` into $BODEGAPOS_E2E_SCREENSHOTS when set."""

    def take(page, name: str) -> None:
        if SCREENSHOT_DIR:
            Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"), full_page=True)

    return take
