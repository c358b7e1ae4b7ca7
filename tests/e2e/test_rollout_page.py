"""A rollout started from the case page, followed live on the rollout page (server-sent events)
while the controller moves it in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from e2e.test_portal import sign_in
from helpers import Clock, FixMaker, MakeUser
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.remediation.models import Fix
from vulnops.rollout.controller import Controller
from vulnops.settings import Settings

pytestmark = pytest.mark.browser


async def test_the_rollout_page_follows_the_rollout_live(
    page: Page,
    live_server: str,
    db: Database,
    settings: Settings,
    fleet: object,
    make_fix: FixMaker,
    make_user: MakeUser,
) -> None:
    fix_id = await make_fix("2026.12.1")
    async with db.session() as session:
        case_id = await session.scalar(select(Fix.case_id).where(Fix.id == fix_id))
    manager = await make_user(Role.RELEASE_MANAGER)
    await sign_in(page, live_server, manager.email)

    await page.goto(f"{live_server}/cases/{case_id}/fixes")
    fixes = page.get_by_test_id("fixes")
    await expect(fixes).to_contain_text("ready to roll out")
    await fixes.get_by_label("Policy").select_option("demo")
    await fixes.get_by_role("button", name="Start rollout").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text("storage 2026.12.1")
    await expect(page.locator("#live-state")).to_contain_text("updated")
    stages = page.get_by_test_id("stages")
    await expect(stages.locator(".unit-pending").first).to_be_visible()
    assert await stages.locator(".unit-deployed").count() == 0
    url = page.url

    simulated = settings.model_copy(update={"sim_requests_per_second": 2_000_000})
    clock = Clock(datetime.now(UTC))
    controller = Controller(database=db, settings=simulated, clock=clock)
    rollout_id = int(url.rsplit("/", 1)[1])
    for _ in range(2000):
        delay = await controller.tick(rollout_id)
        if delay is None:
            break
        clock.advance(delay)

    # The page was not reloaded: the stream redrew it.
    assert page.url == url
    await expect(page.locator("[data-field=status]")).to_have_text("completed", timeout=15_000)
    await expect(page.locator("#live-state")).to_have_text("finished")
    await expect(stages.locator(".unit-pending")).to_have_count(0)
    assert await stages.locator(".unit-deployed").count() > 0
    await expect(stages.locator(".stage-badge-passed").first).to_be_visible()
    await expect(stages).to_contain_text("no regression beyond the margins")
    await expect(stages.get_by_test_id("explanation").first).to_contain_text("Passed after")
    await expect(stages.locator("svg polyline.estimate").first).to_be_visible()
    await expect(stages).not_to_contain_text("e-value")
    await expect(page.get_by_test_id("operations").get_by_role("button")).to_have_text(
        ["Roll back"]
    )
