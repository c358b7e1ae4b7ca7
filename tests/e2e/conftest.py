"""Browser tests: the real app served by uvicorn on a free port, driven by headless Chromium.

Playwright's own browser download does not work everywhere; we drive the system Chromium
(``VULNOPS_CHROMIUM``, else ``/usr/bin/chromium``) and skip, saying why, when there is none.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from helpers import serving_app
from vulnops.db.database import Database
from vulnops.settings import Settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    candidate = os.environ.get("VULNOPS_CHROMIUM", "/usr/bin/chromium")
    return candidate if os.path.exists(candidate) else shutil.which("chromium")


@pytest.fixture
def live_server(db: Database, settings: Settings) -> Iterator[str]:
    """The app on a real socket (``helpers.serving_app``)."""
    with serving_app(settings) as url:
        yield url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found (install Debian's chromium or set VULNOPS_CHROMIUM)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    new_page = await context.new_page()
    yield new_page
    await context.close()
