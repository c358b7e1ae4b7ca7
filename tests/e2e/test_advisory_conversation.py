"""A customer asks about an advisory in the portal, a responder answers from the case's
advisory, and the customer reads the answer; another tenant's customer cannot open the
conversation. In the browser."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, expect
from test_portal import sign_in, sign_out  # type: ignore[import-not-found]

from helpers import MakeUser, api_token, bearer
from notify.notify_world import sent_advisory, world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings


async def test_the_customer_asks_the_responder_answers_and_the_customer_reads_it(
    db: Database,
    fleet: dict[str, Any],
    make_user: MakeUser,
    live_server: str,
    browser: Browser,
    settings: Settings,
) -> None:
    world = await world_maker(db, fleet, settings)()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    async with httpx.AsyncClient(base_url=live_server) as client:
        advisory = await sent_advisory(client, comms, world, approver)
    responder = await make_user(Role.RESPONDER)
    await make_user(Role.CUSTOMER, email="admin@acme.test", tenant_key="acme")
    await make_user(Role.CUSTOMER, email="admin@globex.test", tenant_key="globex")
    page = await browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    try:
        await sign_in(page, live_server, "admin@acme.test")
        await page.goto(f"{live_server}/advisories/{advisory}")
        await page.get_by_label("Your message").fill(
            "We still see **1.0** on `acme-bucket-1` <script>alert('x')</script>"
        )
        await page.get_by_test_id("ask").click()
        await expect(page.locator(".flash")).to_contain_text("Sent to the security response")
        asked = page.get_by_test_id("conversation").locator("article.from-reporter")
        await expect(asked.locator("strong").last).to_have_text("1.0")
        await expect(asked).to_contain_text("<script>alert('x')</script>")
        await sign_out(page)

        await sign_in(page, live_server, "admin@globex.test")
        await page.goto(f"{live_server}/advisories/{advisory}")
        await expect(page.get_by_test_id("conversation")).not_to_contain_text("acme-bucket-1")
        await sign_out(page)

        await sign_in(page, live_server, responder.email)
        await page.goto(f"{live_server}/cases/{world.case_id}/advisory")
        questions = page.get_by_test_id("advisory-conversations")
        await expect(questions).to_contain_text("answer by")
        await questions.get_by_role("link", name="Acme Corp").click()
        await expect(page.get_by_test_id("waiting")).to_contain_text("answer by")
        await page.get_by_label("Answer (Markdown").fill("The fix reached it at **10:00** UTC.")
        await page.get_by_test_id("answer").click()
        await expect(page.locator(".flash")).to_contain_text("Answer sent")
        await expect(page.get_by_test_id("waiting")).to_have_count(0)
        conversation_url = page.url
        await sign_out(page)

        await sign_in(page, live_server, "admin@acme.test")
        await page.goto(f"{live_server}/advisories/{advisory}")
        answer = page.get_by_test_id("conversation").locator("article.from-staff")
        await expect(answer).to_contain_text("Security response team")
        await expect(answer.locator("strong").last).to_have_text("10:00")
        # The team's page of the conversation is not the customer's to open.
        response = await page.goto(conversation_url)
        assert response is not None and response.status == 403
        await sign_out(page)
        assert dialogs == []
    finally:
        await page.close()
