"""In the browser, from a researcher's report to an approved award and a paid payout on the
researcher's page: a responder proposes the award from the table on the report's page and
submits it, an administrator approves it there, finance asks for the payout and marks it paid,
and the researcher sees the award, the payout and their balance — then disputes the award."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Page, expect
from test_portal import sign_in, sign_out  # type: ignore[import-not-found]

from helpers import MakeUser
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.bounty import payouts, programs
from vulnops.bounty.tables import load_table
from vulnops.db.database import Database
from vulnops.intake import service as intake
from vulnops.intake.schemas import ReportIn
from vulnops.intake.states import ReportState
from vulnops.settings import Settings


async def test_from_a_report_to_a_paid_award_in_the_browser(
    page: Page, live_server: str, db: Database, settings: Settings, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    responder = await make_user(Role.RESPONDER)
    admin = await make_user(Role.ADMIN)
    now = datetime.now(UTC)
    async with db.session() as session:
        await programs.create_program(
            session,
            key="cloud",
            name="Cloud services",
            table=load_table(),
            scope=programs.Scope(),
            starts_at=now - timedelta(days=1),
            actor=admin.email,
        )
        report = await intake.submit(
            session,
            principal=users.principal_of(researcher, via="session"),
            settings=settings,
            data=ReportIn(title="Cross-tenant snapshot read", description="Steps."),
        )
        await intake.transition(
            session,
            principal=users.principal_of(responder, via="session"),
            report_id=report.id,
            target=ReportState.TRIAGED,
            close_reason=None,
            resolution=None,
            settings=settings,
        )
        await payouts.set_payee(
            session,
            researcher_id=researcher.id,
            payment_reference="payoneer:ada",
            country="FR",
            tax_form_received=True,
            actor=admin.email,
            now=now,
        )
        await session.commit()
    url = f"{live_server}/reports/{report.id}"
    panel = page.get_by_test_id("award")

    await sign_in(page, live_server, responder.email)
    await page.goto(url)
    form = page.get_by_test_id("propose-award")
    await form.get_by_label("Security impact").select_option("information_disclosure")
    await form.get_by_label("Severity").select_option("critical")
    await form.get_by_label("Report quality").select_option("high")
    await form.get_by_label("reaches another tenant's data").check()
    await form.get_by_role("button", name="Propose the award").click()
    await expect(panel).to_contain_text("proposed")
    await expect(panel).to_contain_text("$45,000.00")  # $30,000 times 1.5 for cross-tenant
    await page.get_by_test_id("submit-award").click()
    await expect(page.locator(".flash")).to_contain_text("sent for a second person's approval")
    await expect(panel).to_contain_text("waiting for approval")
    await expect(page.get_by_test_id("approve-award")).to_have_count(0)  # not by its author
    await sign_out(page)

    await sign_in(page, live_server, admin.email)
    await page.goto(url)
    await page.get_by_test_id("approve-award").click()
    await expect(panel).to_contain_text("approved")
    await page.goto(f"{live_server}/bounty/payouts")
    await page.get_by_label("Researcher (account id)").fill(str(researcher.id))
    await page.get_by_label("Amount in minor units (cents)").fill("4500000")
    await page.get_by_label("Key (asking again").fill(f"payout:{researcher.id}:1")
    await page.get_by_role("button", name="Ask for the payout").click()
    await expect(page.locator(".flash")).to_contain_text("$45,000.00 asked for")
    row = page.get_by_test_id("payouts").locator("tr", has_text=f"payout:{researcher.id}:1")
    await row.get_by_placeholder("payment reference").fill("PAY-7731")
    await row.get_by_role("button", name="Paid").click()
    await expect(row).to_contain_text("paid")
    await expect(row).to_contain_text("PAY-7731")
    await sign_out(page)

    await sign_in(page, live_server, researcher.email)
    await page.get_by_role("link", name="Your bounty").click()
    await expect(page.get_by_test_id("my-awards")).to_contain_text("approved")
    await expect(page.get_by_test_id("my-awards")).to_contain_text("$45,000.00")
    await expect(page.get_by_test_id("my-payouts")).to_contain_text("paid")
    await expect(page.get_by_test_id("balances")).to_contain_text(
        "$0.00 owed · $0.00 being paid · $45,000.00 paid"
    )
    await page.goto(url)
    await expect(panel).to_contain_text("information disclosure, critical, high-quality report")
    await page.get_by_text("Dispute the award").click()
    await page.get_by_label("What you disagree with").fill("The key was the service's own.")
    await page.get_by_role("button", name="Open a dispute").click()
    await expect(page.locator(".flash")).to_contain_text("Dispute opened: staff answer by")
    await expect(page.get_by_test_id("dispute")).to_contain_text("The key was the service's own.")
    await expect(page.locator("#thread")).to_contain_text("I dispute the award")
