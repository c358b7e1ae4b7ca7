"""A report's page shows its bounty award to its reporter (with their balance) and to staff who
see awards, and to nobody else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from helpers import MakeUser, sign_in
from vulnops.auth.roles import Role
from vulnops.bounty import decisions, payouts, programs, reputation
from vulnops.bounty.awards import Assessment
from vulnops.bounty.tables import load_table
from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.intake.models import Report
from vulnops.settings import Settings

NOW = datetime.now(UTC)


async def test_the_award_panel_on_a_reports_page(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    async with db.session() as s:
        await programs.create_program(
            s,
            key="cloud",
            name="Cloud",
            table=load_table(),
            scope=programs.Scope(),
            starts_at=NOW - timedelta(days=1),
            actor="lead@example.com",
        )
        report = Report(
            source="researcher",
            state="triaged",
            title="Token replay",
            description="Replays work.",
            reporter_id=researcher.id,
        )
        s.add(report)
        await s.flush()
        award = await decisions.propose(
            s,
            report_id=report.id,
            assessment=Assessment("tampering", "important", "medium"),
            actor="triager@example.com",
            settings=Settings(),
            now=NOW,
        )
        await decisions.adjust(
            s,
            award_id=award.id,
            amount=4_000_00,
            reason="a clear write-up",
            actor="triager@example.com",
        )
        await decisions.submit(
            s, award_id=award.id, actor="triager@example.com", settings=Settings(), now=NOW
        )
        await payouts.set_payee(
            s,
            researcher_id=researcher.id,
            payment_reference="payoneer:r",
            country="DE",
            tax_form_received=True,
            actor="f",
            now=NOW,
        )
        await payouts.ask(
            s, key="p1", researcher_id=researcher.id, amount=1_000_00, currency="USD", actor="f"
        )
        await s.commit()
        report_id = report.id
    await sign_in(client, researcher.email)
    page = (await client.get(f"/reports/{report_id}")).text
    assert 'data-testid="award"' in page and "$4,000.00" in page and "approved" in page
    assert "tampering, important, medium-quality report" in page
    assert "Adjusted from $5,000.00: a clear write-up" in page
    assert "Your balance: $3,000.00 owed, $1,000.00 being paid, $0.00 paid." in page
    for role, shown in ((Role.RESPONDER, True), (Role.ENGINEER, False)):
        staff = await make_user(role)
        client.cookies.clear()
        await sign_in(client, staff.email)
        seen = (await client.get(f"/reports/{report_id}")).text
        assert ('data-testid="award"' in seen) is shown, role
        assert "Your balance" not in seen


async def test_the_staff_researcher_and_public_pages(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, settings: Settings
) -> None:
    """/bounty lists the awards that wait, a restricted case's only to its team; /bounty/me is
    the researcher's own; the hall of fame names only who chose to be named."""
    researcher = await make_user(Role.RESEARCHER)
    async with db.session() as s:
        await programs.create_program(
            s,
            key="cloud",
            name="Cloud",
            table=load_table(),
            scope=programs.Scope(),
            starts_at=NOW - timedelta(days=1),
            actor="lead@example.com",
        )
        secret = await cases.open_case(
            s, title="Secret", summary="s", services=[], actor="t", settings=settings, now=NOW
        )
        await s.execute(
            text("UPDATE cases SET restricted = true WHERE id = :id"), {"id": secret.id}
        )
        for title, case_id in (("Open replay", None), ("Hidden replay", secret.id)):
            report = Report(
                source="researcher",
                state="triaged",
                title=title,
                description="Steps.",
                reporter_id=researcher.id,
                case_id=case_id,
            )
            s.add(report)
            await s.flush()
            await decisions.propose(
                s,
                report_id=report.id,
                assessment=Assessment("tampering", "important", "medium"),
                actor="triager@example.com",
                settings=settings,
                now=NOW,
            )
        await reputation.name_publicly(
            s, researcher_id=researcher.id, public_name="Ada L.", listed=True, now=NOW
        )
        await s.execute(
            text(
                "INSERT INTO bounty_reputation_totals (period, researcher_id, points) "
                "VALUES ('all', :id, 47)"
            ),
            {"id": researcher.id},
        )
        await s.commit()
    responder = await make_user(Role.RESPONDER)
    await sign_in(client, responder.email)
    overview = await client.get("/bounty")
    assert overview.status_code == 200
    assert "Open replay" in overview.text and "Hidden replay" not in overview.text
    assert (
        'data-testid="responsiveness"' in overview.text and "a retest pays $100.00" in overview.text
    )
    assert (await client.get("/bounty/payouts")).status_code == 403  # finance's page
    client.cookies.clear()
    await sign_in(client, researcher.email)
    mine = (await client.get("/bounty/me")).text
    assert "Reputation <strong>147</strong>" in mine
    # Their own reports' awards, the restricted case's too: each award and their whole share.
    assert "Open replay" in mine and "Hidden replay" in mine
    assert mine.count("$5,000.00") == 4 and 'value="Ada L."' in mine
    client.cookies.clear()
    fame = (await client.get("/hall-of-fame?period=all")).text
    assert "Ada L." in fame and researcher.email not in fame
    assert (await client.get("/hall-of-fame?period=soon")).status_code == 422
