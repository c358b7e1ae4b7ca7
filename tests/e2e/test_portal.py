"""The researcher portal and the triage view, in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Dialog, Page, expect

from helpers import PASSWORD, MakeUser
from vulnops.auth.roles import Role

pytestmark = pytest.mark.browser


async def sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").click()


async def test_a_script_in_a_report_shows_as_text_to_everyone(
    page: Page, live_server: str, make_user: MakeUser
) -> None:
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    researcher = await make_user(Role.RESEARCHER)
    responder = await make_user(Role.RESPONDER)

    await sign_in(page, live_server, researcher.email)
    await page.goto(f"{live_server}/reports/new")
    title = "<script>alert('title')</script> XSS in profile"
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Affected service").fill("profiles")
    await page.get_by_label("Description (Markdown").fill(
        "The bio field runs <img src=x onerror=alert('desc')> for **every** visitor."
    )
    await page.get_by_role("button", name="Submit report").click()

    await expect(page.get_by_text("your report is received and tracked as VULN-")).to_be_visible()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.get_by_test_id("description")).to_contain_text("<img src=x onerror=")
    await expect(page.get_by_test_id("description").locator("strong")).to_have_text("every")
    report_url = page.url

    await sign_out(page)
    await sign_in(page, live_server, responder.email)
    await page.goto(f"{live_server}/reports")
    await expect(page.get_by_role("row").filter(has_text=title)).to_have_count(1)
    await page.goto(report_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    triage = page.get_by_test_id("triage")
    await triage.get_by_label("Close as").select_option("not_applicable")
    await triage.get_by_label("Reason the reporter reads").fill("Bios are **sanitised** at render.")
    await triage.get_by_role("button", name="Close").click()
    await expect(page.get_by_text("is now closed")).to_be_visible()

    await sign_out(page)
    await sign_in(page, live_server, researcher.email)
    await page.goto(report_url)
    await expect(page.get_by_test_id("resolution")).to_contain_text("Closed: not applicable")
    await expect(page.get_by_test_id("resolution").locator("strong").last).to_have_text("sanitised")
    assert dialogs == []


async def test_the_researcher_and_the_team_talk_in_the_thread(
    page: Page, live_server: str, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    responder = await make_user(Role.RESPONDER)
    await sign_in(page, live_server, researcher.email)
    await page.goto(f"{live_server}/reports/new")
    await page.get_by_label("Title").fill("Verbose errors leak stack traces")
    await page.get_by_label("Description (Markdown").fill("A 500 shows the stack.")
    await page.get_by_role("button", name="Submit report").click()
    report_url = page.url
    await sign_out(page)

    await sign_in(page, live_server, responder.email)
    await page.goto(report_url)
    await page.get_by_label("Write a message (Markdown").fill("Which endpoint returns it?")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("Message sent.")).to_be_visible()
    await sign_out(page)

    await sign_in(page, live_server, researcher.email)
    await page.goto(f"{live_server}/reports")
    await expect(page.get_by_text("reply from us")).to_be_visible()
    await page.goto(report_url)
    thread = page.locator("#thread")
    await expect(thread.locator("article.from-staff")).to_contain_text("Which endpoint returns it?")
    await expect(thread.locator("article.from-staff")).to_contain_text("Security response team")
