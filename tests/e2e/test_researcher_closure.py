"""The researcher's view of a report that follows its case, in the browser: accepted, resolved
when the fix is live, published with the link to the public advisory that credits them."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Page, expect
from test_portal import sign_in  # type: ignore[import-not-found]

from disclosure.flows import approve_text, disclose
from helpers import MakeUser
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db.database import Database
from vulnops.intake import service as intake
from vulnops.intake.schemas import ReportIn
from vulnops.settings import Settings


async def _decide(
    db: Database, settings: Settings, case_id: int, state: CaseState, reason: str
) -> None:
    async with db.session() as session:
        await cases.transition(
            session,
            case_id=case_id,
            target=state,
            reason=reason,
            actor="responder@example.com",
            now=datetime.now(UTC),
            settings=settings,
        )
        await session.commit()


async def test_the_researcher_sees_accepted_then_resolved_then_published_with_the_link(
    page: Page, live_server: str, db: Database, settings: Settings, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    staff = await make_user(Role.RESPONDER)
    async with db.session() as session:
        reporter = users.principal_of(researcher, via="session")
        report = await intake.submit(
            session,
            principal=reporter,
            settings=settings,
            data=ReportIn(
                title="Quota bypass in uploads",
                description="Steps.",
                service="storage",
                credit_name="Ada L.",
            ),
        )
        case, _ = await intake.open_case_from_reports(
            session,
            principal=users.principal_of(staff, via="session"),
            title="Internal: quota bypass",
            summary="",
            services=[],
            report_ids=[report.id],
            owner_id=None,
            responder_id=None,
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    await sign_in(page, live_server, researcher.email)
    url = f"{live_server}/reports/{report.id}"
    await page.goto(url)
    closure = page.get_by_test_id("closure")
    await expect(closure).to_contain_text("Accepted")

    await _decide(db, settings, case.id, CaseState.MITIGATED, "a quota check")
    await page.reload()
    await expect(closure).to_contain_text("Resolved")
    await expect(closure).to_contain_text("The fix runs on every server")

    await _decide(db, settings, case.id, CaseState.NOTIFIED, "nothing for customers to do")
    await approve_text(db, settings, case.id, title="Storage quotas could be bypassed")
    await disclose(db, settings, case.id)
    await page.reload()
    await expect(closure).to_contain_text("Published")
    await closure.get_by_role("link", name=case.tracking_id).click()
    advisory = page.get_by_test_id("public-advisory")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Storage quotas could be bypassed"
    )
    await expect(advisory).to_contain_text("Ada L.")
    await expect(page.locator("body")).not_to_contain_text("Internal: quota bypass")
