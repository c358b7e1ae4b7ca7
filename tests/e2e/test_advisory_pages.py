"""An advisory from draft to the customer's acknowledgment, in the browser; another tenant's
customer cannot open it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect
from test_portal import sign_in, sign_out  # type: ignore[import-not-found]

from helpers import MakeUser
from notify.notify_world import world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings


async def test_communications_sends_and_the_customer_acknowledges_and_rates(
    db: Database,
    fleet: dict[str, Any],
    make_user: MakeUser,
    live_server: str,
    browser: Browser,
    settings: Settings,
) -> None:
    world = await world_maker(db, fleet, settings)()
    comms = await make_user(Role.COMMUNICATIONS)
    approver = await make_user(Role.COMMUNICATIONS)
    await make_user(Role.CUSTOMER, email="admin@acme.test", tenant_key="acme")
    await make_user(Role.CUSTOMER, email="admin@hooli.test", tenant_key="hooli")
    page = await browser.new_page()
    try:
        await sign_in(page, live_server, comms.email)
        await page.goto(f"{live_server}/cases/{world.case_id}")
        await page.get_by_test_id("case-tabs").get_by_role("link", name="Advisory").click()
        await page.get_by_label("What the customer must do").fill("Rotate your bucket keys.")
        await page.get_by_label("Customer action required").check()
        await page.get_by_role("button", name="Save draft").click()
        await expect(page.locator(".flash")).to_contain_text("Draft saved")
        # Its author cannot approve it: a second person must.
        await page.get_by_role("button", name="Approve version 1").click()
        await expect(page.locator(".flash")).to_contain_text("four eyes")
        await sign_out(page)
        await sign_in(page, live_server, approver.email)
        await page.goto(f"{live_server}/cases/{world.case_id}/advisory")
        await page.get_by_role("button", name="Approve version 1").click()
        await expect(page.locator(".flash")).to_contain_text("Version 1 approved")
        await sign_out(page)
        await sign_in(page, live_server, comms.email)
        await page.goto(f"{live_server}/cases/{world.case_id}/advisory")
        await page.get_by_role("button", name="Send version 1").click()
        await expect(page.locator(".flash")).to_contain_text("sent to 4 tenants")
        await expect(page.get_by_test_id("version-1")).to_contain_text("sent")
        await page.get_by_role("button", name="Preview version 1").click()
        await expect(page.locator("#preview")).to_contain_text("Rotate your bucket keys.")
        await sign_out(page)

        await sign_in(page, live_server, "admin@acme.test")
        await (
            page.get_by_role("navigation", name="Main")
            .get_by_role("link", name="Advisories")
            .click()
        )
        await page.get_by_test_id("my-advisories").get_by_role("link").first.click()
        text = page.get_by_test_id("advisory-text")
        await expect(text).to_contain_text("acme-bucket-0")
        await expect(text).to_contain_text("Rotate your bucket keys.")
        await expect(text).not_to_contain_text("globex")
        await page.get_by_test_id("acknowledge").click()
        await expect(page.get_by_test_id("acknowledgment")).to_contain_text("You acknowledged")
        await page.get_by_label("4").check()
        await page.get_by_label("Comment").fill("Clear and early.")
        await page.get_by_role("button", name="Send feedback").click()
        await expect(page.locator(".flash")).to_contain_text("Thank you for your feedback")
        advisory_url = page.url
        await sign_out(page)

        await sign_in(page, live_server, "admin@hooli.test")
        response = await page.goto(advisory_url)
        assert response is not None and response.status == 404
        await page.goto(f"{live_server}/advisories")
        await expect(page.get_by_test_id("my-advisories")).to_contain_text("No advisories")
        await sign_out(page)

        await sign_in(page, live_server, comms.email)
        await page.goto(f"{live_server}/cases/{world.case_id}/advisory")
        version = page.get_by_test_id("version-1")
        await expect(version.locator("td").last).to_have_text("1")
        await expect(page.get_by_test_id("advisory-feedback")).to_contain_text(
            "average rating 4.0 / 5"
        )
    finally:
        await page.close()
