"""Take the README's screenshots from a fresh demo: ``make screenshots``.

Starts ``vulnops serve --demo`` on a free port with a throw-away data directory, signs in as the
demo users with headless Chromium, and writes PNGs to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

from playwright.async_api import Page, async_playwright

HERE = Path(__file__).parent
OUT = HERE / "screenshots"
CHROMIUM = os.environ.get("VULNOPS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


class Shot(NamedTuple):
    name: str
    role: str | None  # sign in as this demo user, or not at all
    path: str
    follow: str | None = None  # then open the link of the table row with this text
    full_page: bool = False
    wait: str | None = None  # text to wait for (the demo rollouts take a few minutes)
    element: str | None = None  # shoot only this element (a CSS selector)
    click: str | None = None  # then follow the link with this name
    width: int = 1280  # the viewport's (390: a phone)
    menu: bool = False  # open the collapsed navigation first (a phone)


LOG4J = (
    "purl=pkg:maven/org.apache.logging.log4j/log4j-core&range=vers:maven/%3E%3D2.0.0%7C%3C2.17.1"
)
SHOTS = [
    Shot("landing", None, "/"),
    Shot("dashboard-admin", "admin", "/", full_page=True),
    Shot("queue-responder", "responder", "/", full_page=True),
    Shot("queue-release-manager", "release_manager", "/", wait="Live rollouts"),
    Shot("queue-customer", "customer", "/"),
    Shot("queue-researcher", "researcher", "/"),
    Shot("phone-menu", "responder", "/", width=390, menu=True),
    Shot("users", "admin", "/admin/users"),
    Shot("audit-log", "admin", "/audit?verify=1"),
    Shot("tokens", "researcher", "/account/tokens"),
    Shot("my-reports", "researcher", "/reports"),
    Shot("submit-report", "researcher", "/reports/new"),
    Shot("triage-queue", "responder", "/reports?sort=received"),
    Shot("report-triage", "responder", "/reports/2", full_page=True),
    Shot("cases", "responder", "/cases?sort=due"),
    Shot("case", "responder", "/cases/1", full_page=True),
    Shot("case-severity", "responder", "/cases/1/severity", full_page=True),
    Shot(
        "case-timeline",
        "responder",
        "/cases?q=SSRF",
        follow="SSRF from the image importer",
        click="Timeline",
    ),
    Shot("fleet-services", "engineer", "/fleet/services"),
    Shot("fleet-regions", "engineer", "/fleet/regions"),
    Shot("fleet-tenant", "customer", "/fleet/my-tenant"),
    Shot("fleet-components", "responder", f"/fleet/components?{LOG4J}"),
    Shot(
        "case-blast-radius",
        "responder",
        "/cases?q=JNDI",
        follow="JNDI lookup",
        click="Blast radius",
        full_page=True,
    ),
    Shot(
        "rollout-halted",
        "release_manager",
        "/rollouts?status=halted",
        follow="identity",
        full_page=True,
        wait="identity",
    ),
    Shot(
        "rollout-completed",
        "release_manager",
        "/rollouts?status=completed",
        follow="storage",
        full_page=True,
        wait="storage",
    ),
    Shot("rollouts", "release_manager", "/rollouts"),
    Shot(
        "case-fixes",
        "responder",
        "/cases?q=SSRF",
        follow="SSRF from the image importer",
        click="Fixes and rollouts",
    ),
    Shot(
        "advisory-editor",
        "communications",
        "/cases?q=SSRF",
        follow="SSRF from the image importer",
        click="Advisory",
        full_page=True,
    ),
    Shot("deliveries", "communications", "/notifications/deliveries?status="),
    Shot("oncall-calendar", "responder", "/oncall/schedules/follow-the-sun?days=7", full_page=True),
    Shot("oncall-report", "responder", "/oncall/report"),
    Shot("demo-inbox", "admin", "/inbox", wait="Security advisory"),
    Shot("portal-advisories", "customer", "/advisories"),
    Shot("portal-advisory", "customer", "/advisories", follow="import d'images", full_page=True),
    Shot(
        "portal-conversation",
        "customer",
        "/advisories",
        follow="import d'images",
        element='[data-testid="conversation"]',
    ),
    Shot(
        "advisory-translations",
        "communications",
        "/cases?q=SSRF",
        follow="SSRF from the image importer",
        click="Advisory",
        element='[data-testid="advisory-translations"]',
    ),
    Shot(
        "advisory-conversations",
        "communications",
        "/cases?q=SSRF",
        follow="SSRF from the image importer",
        click="Advisory",
        element='[data-testid="advisory-conversations"]',
    ),
    Shot(
        "case-disclosure",
        "communications",
        "/cases?q=Organisation+owner",
        follow="Organisation owner",
        click="Disclosure",
        full_page=True,
    ),
    Shot(
        "case-public-text",
        "communications",
        "/cases?q=Organisation+owner",
        follow="Organisation owner",
        click="Disclosure",
        element="#public-text",
    ),
    Shot("approvals", "admin", "/approvals"),
    Shot("public-advisories", None, "/security/advisories"),
    Shot("public-advisory", None, "/security/advisories", follow="Organisation owner"),
    # The showcase: the SSRF case is public once its rollout ran and its embargo (ten minutes
    # after the demo started) ended.
    Shot(
        "case-milestones",
        "responder",
        "/cases?q=SSRF&state=disclosed",
        follow="SSRF from the image importer",
        element="aside.side-col",
        wait="SSRF from the image importer",
    ),
    Shot("researcher-published", "researcher", "/reports", follow="SSRF in image import"),
    Shot(
        "bounty-award",
        "researcher",
        "/reports",
        follow="SSRF in image import",
        element='[data-testid="award"]',
    ),
    Shot("bounty-overview", "admin", "/bounty"),
    Shot("bounty-mine", "researcher", "/bounty/me"),
    Shot("hall-of-fame", None, "/hall-of-fame?period=all"),
    Shot(
        "case-root-cause",
        "engineer",
        "/cases",
        follow="SSRF from the image importer",
        click="Root cause and variants",
        full_page=True,
    ),
    Shot("hunt", "engineer", "/hunts/1", full_page=True),
    Shot("classes", "engineer", "/classes"),
    Shot("class", "engineer", "/classes/918"),
    Shot(
        "review",
        "responder",
        "/reviews?state=published",
        follow="Organisation owner through role import",
        full_page=True,
    ),
    Shot("metrics", "responder", "/metrics", full_page=True),
]
ROLLOUT_WAIT_MS = 900_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2):  # noqa: S310 - localhost
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the demo server did not come up at {url}")


def _credentials(data_dir: Path) -> dict[str, tuple[str, str]]:
    logins = {}
    for line in (data_dir / "demo-credentials.txt").read_text().splitlines():
        role, email, password = line.split("\t")
        logins[role] = (email, password)
    return logins


async def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state("networkidle")


async def _wait_for_text(page: Page, text: str) -> None:
    """Reload until ``text`` shows (a list page has no live stream)."""
    deadline = time.monotonic() + ROLLOUT_WAIT_MS / 1000
    while not await page.get_by_text(text).count():
        if time.monotonic() > deadline:
            raise SystemExit(f"{page.url} never showed {text!r}")
        await page.wait_for_timeout(5000)
        await page.reload()


async def shoot(base: str, logins: dict[str, tuple[str, str]], names: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for shot in SHOTS:
            if names and shot.name not in names:
                continue
            context = await browser.new_context(viewport={"width": shot.width, "height": 800})
            page = await context.new_page()
            if shot.role is not None:
                await _sign_in(page, base, *logins[shot.role])
            await page.goto(base + shot.path)
            if shot.wait is not None:
                await _wait_for_text(page, shot.wait)
            if shot.follow is not None:
                row = page.get_by_role("row").filter(has_text=shot.follow)
                await row.get_by_role("link").first.click()
                await page.wait_for_load_state("networkidle")
            if shot.click is not None:
                await page.get_by_role("link", name=shot.click, exact=True).first.click()
                await page.wait_for_load_state("networkidle")
            if shot.menu:
                await page.get_by_role("button", name="Menu").click()
            path = str(OUT / f"{shot.name}.png")
            if shot.element is not None:
                await page.locator(shot.element).screenshot(path=path)
            else:
                await page.screenshot(path=path, full_page=shot.full_page)
            await context.close()
            print(f"docs/screenshots/{shot.name}.png")
        await browser.close()


def main() -> None:
    """Every picture, or only those named on the command line."""
    names = sys.argv[1:]
    unknown = set(names) - {shot.name for shot in SHOTS}
    if unknown:
        raise SystemExit(f"no such screenshot: {', '.join(sorted(unknown))}")
    data_dir = Path(tempfile.mkdtemp(prefix="vulnops-shots-"))
    port = _free_port()
    env = {**os.environ, "VULNOPS_DATA_DIR": str(data_dir), "VULNOPS_LOG_LEVEL": "warning"}
    env.pop("VULNOPS_DATABASE_URL", None)
    server = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "vulnops", "serve", "--demo", "--port", str(port)], env=env
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base, 120)
        asyncio.run(shoot(base, _credentials(data_dir), names))
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
