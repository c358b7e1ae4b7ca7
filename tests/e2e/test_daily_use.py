"""The pages a team lives in, in a real browser on the demo's data: each role's work queue,
a refused form that keeps what was typed, the message after a refused upload, the API docs,
and the layout on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from vulnops import demo
from vulnops.cases.models import Case
from vulnops.db.database import Database

pytestmark = pytest.mark.browser
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


async def _seeded(db: Database) -> dict[str, tuple[str, str]]:
    """The demo, and its logins by role: (email, password)."""
    context = await demo.seed(db)
    return {role: (email, password) for role, email, password in context.credentials}


async def _sign_in(page: Page, base: str, login: tuple[str, str]) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Email").fill(login[0])
    await page.get_by_label("Password").fill(login[1])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


async def _a_case(db: Database) -> int:
    async with db.session() as session:
        case_id = await session.scalar(select(Case.id).order_by(Case.id).limit(1))
    assert case_id is not None
    return case_id


async def test_a_responder_and_a_customer_each_see_what_needs_them(
    page: Page, live_server: str, db: Database
) -> None:
    logins = await _seeded(db)
    await _sign_in(page, live_server, logins["responder"])
    counts = page.get_by_test_id("queue-counts")
    await expect(counts.locator("[data-section=breaches]")).to_be_visible()
    await expect(counts.locator("[data-section=my_cases]")).to_be_visible()
    new_reports = page.get_by_test_id("queue-new_reports")
    item = new_reports.locator(".queue-items a").first
    await expect(item).to_be_visible()
    await expect(page.get_by_test_id("queue-jobs")).to_have_count(0)
    await item.click()
    await page.wait_for_url("**/reports/*")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await _sign_in(page, live_server, logins["customer"])
    unacknowledged = page.get_by_test_id("queue-unacknowledged")
    advisory = unacknowledged.locator(".queue-items a").first
    await expect(advisory).to_be_visible()
    await expect(page.get_by_test_id("queue-new_reports")).to_have_count(0)
    await advisory.click()
    await expect(page.get_by_test_id("advisory-text")).to_be_visible()


async def test_an_invalid_cvss_vector_keeps_the_other_fields_and_says_why_beside_it(
    page: Page, live_server: str, db: Database
) -> None:
    logins = await _seeded(db)
    case_id = await _a_case(db)
    await _sign_in(page, live_server, logins["responder"])
    await page.goto(f"{live_server}/cases/{case_id}/severity")
    form = page.get_by_test_id("assess-form")
    await form.get_by_label("CVSS 3.1 vector").fill("CVSS:3.1/AV:Q/AC:L")
    await form.get_by_label("CWE").fill("CWE-639")
    await form.get_by_label("Why (kept in the event log").fill("Reproduced by the team today")
    await form.get_by_role("button").last.click()

    await expect(page).to_have_url(f"{live_server}/cases/{case_id}/severity")
    vector = form.get_by_label("CVSS 3.1 vector")
    await expect(vector).to_have_value("CVSS:3.1/AV:Q/AC:L")
    await expect(vector).to_have_attribute("aria-invalid", "true")
    error = form.locator(".field-error")
    await expect(error).to_contain_text("AV")
    await expect(error).to_be_in_viewport()
    await expect(form.get_by_label("CWE")).to_have_value("CWE-639")
    await expect(form.get_by_label("Why (kept in the event log")).to_have_value(
        "Reproduced by the team today"
    )


async def test_a_png_uploaded_as_test_results_says_so_where_it_is_seen(
    page: Page, live_server: str, db: Database, tmp_path: Path
) -> None:
    logins = await _seeded(db)
    case_id = await _a_case(db)
    await _sign_in(page, live_server, logins["admin"])
    await page.goto(f"{live_server}/cases/{case_id}/fixes")
    await page.get_by_text("Add a fix", exact=True).click()
    add = page.locator(f"form[action='/cases/{case_id}/fixes']")
    await add.get_by_label("Service").fill("storage")
    await add.get_by_label("Version").fill("2099.1.1")
    await add.get_by_role("button").click()
    await expect(page.locator(".flash").first).to_be_visible()
    picture = tmp_path / "results.png"
    picture.write_bytes(PNG)
    upload = page.locator("form[action$='/evidence']").last
    await upload.get_by_label("JUnit XML").set_input_files(str(picture))
    await upload.get_by_role("button", name="Upload results").click()
    message = page.locator(".flash.error, .field-error").first
    await expect(message).to_be_visible()
    await expect(message).to_be_in_viewport()
    await expect(message).to_contain_text("JUnit")


async def test_the_api_docs_list_the_operations(page: Page, live_server: str) -> None:
    """Swagger UI renders only the operations near the viewport (newer releases virtualize
    the list), so the page is scrolled through and every operation seen is collected."""
    await page.goto(f"{live_server}/docs")
    await expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    seen: set[str] = set()
    for _ in range(400):
        for block in await page.locator(".opblock-summary").all():
            method = await block.locator(".opblock-summary-method").inner_text()
            path = await block.locator(".opblock-summary-path").inner_text()
            seen.add(f"{method} {path.replace(chr(8203), '')}")
        at_end = await page.evaluate(
            "window.innerHeight + window.scrollY >= document.body.scrollHeight - 2"
        )
        if at_end:
            break
        await page.mouse.wheel(0, 600)
        await page.wait_for_timeout(50)
    assert len(seen) > 50, sorted(seen)
    assert {"GET /api/cases", "POST /api/alerts/pagerduty/v2/enqueue"} <= seen
    await expect(page.get_by_text("Unable to render this definition")).to_have_count(0)


async def test_on_a_phone_the_menu_opens_and_wide_tables_scroll_inside_their_card(
    browser: Browser, live_server: str, db: Database
) -> None:
    logins = await _seeded(db)
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        await _sign_in(page, live_server, logins["admin"])
        sign_out = page.get_by_role("button", name="Sign out")
        await expect(sign_out).to_be_hidden()
        await page.get_by_role("button", name="Menu").click()
        await expect(sign_out).to_be_visible()
        await expect(sign_out).to_be_in_viewport()
        await page.goto(f"{live_server}/cases")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide"
        table = page.locator("table").first
        # The table scrolls inside its card: its box ends on the screen.
        assert await table.evaluate("t => t.getBoundingClientRect().right") <= 390
    finally:
        await context.close()
