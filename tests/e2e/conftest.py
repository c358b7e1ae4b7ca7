"""Browser tests: the real app served by uvicorn on a free port, driven by headless Chromium.

Playwright's own browser download does not work everywhere; we drive the system Chromium
(``VULNOPS_CHROMIUM``, else ``/usr/bin/chromium``) and skip, saying why, when there is none.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(db: Database, settings: Settings) -> Iterator[str]:
    """The app on a real socket, in a thread with its own event loop and connection pool."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


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
