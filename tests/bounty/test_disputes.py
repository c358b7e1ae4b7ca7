"""Disputes: a researcher disputes their award or their report's closure, staff answer within
the business-day deadline, both in the report's conversation; nobody else opens or sees one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.bounty import decisions, disputes, programs
from vulnops.bounty.awards import Assessment
from vulnops.bounty.tables import load_table
from vulnops.db.database import Database
from vulnops.intake.models import Report, ReportMessage
from vulnops.settings import Settings

NOW = datetime.now(UTC)


def test_the_deadline_counts_business_days() -> None:
    friday = datetime(2026, 12, 4, 15, tzinfo=UTC)
    assert disputes.due(friday, 5) == datetime(2026, 12, 11, 23, 59, 59, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 9, tzinfo=UTC)  # rolls to Monday, then five more
    assert disputes.due(saturday, 5) == datetime(2026, 12, 14, 23, 59, 59, tzinfo=UTC)


async def test_a_dispute_of_an_award_and_its_answer(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    ada = bearer(await api_token(db, researcher))
    other = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
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
            title="Replay",
            description="Tokens replay.",
            reporter_id=researcher.id,
        )
        pending = Report(
            source="researcher",
            state="new",
            title="Later",
            description="Not triaged.",
            reporter_id=researcher.id,
        )
        closed = Report(
            source="researcher",
            state="closed",
            close_reason="out_of_scope",
            title="Marketing",
            description="Their site.",
            reporter_id=researcher.id,
        )
        s.add_all([report, pending, closed])
        await s.flush()
        await decisions.propose(
            s,
            report_id=report.id,
            assessment=Assessment("spoofing", "important", "low"),
            actor="t@example.com",
            settings=Settings(),
            now=NOW,
        )
        await s.commit()
        report_id, pending_id, closed_id = report.id, pending.id, closed.id
    closure = await client.post(
        f"/api/bounty/me/reports/{closed_id}/dispute",
        json={"reason": "The site is yours: its TLS certificate names you."},
        headers=ada,
    )
    assert closure.status_code == 201 and closure.json()["about"] == "closure"
    url = f"/api/bounty/me/reports/{report_id}/dispute"
    assert (await client.post(url, json={"reason": "x"}, headers=other)).status_code == 404
    nothing = await client.post(
        f"/api/bounty/me/reports/{pending_id}/dispute", json={"reason": "x"}, headers=ada
    )
    assert nothing.status_code == 422 and "nothing to dispute yet" in nothing.text
    opened = await client.post(url, json={"reason": "This reaches other tenants."}, headers=ada)
    assert opened.status_code == 201, opened.text
    dispute = opened.json()
    assert dispute["about"] == "award" and dispute["status"] == "open"
    assert (await client.post(url, json={"reason": "again"}, headers=ada)).status_code == 409
    listed = (await client.get("/api/bounty/disputes", headers=staff)).json()
    assert [d["id"] for d in listed] == [closure.json()["id"], dispute["id"]]
    answered = await client.post(
        f"/api/bounty/disputes/{dispute['id']}/answer",
        json={"answer": "Reproduced across tenants: the award is raised."},
        headers=staff,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    left = (await client.get("/api/bounty/disputes", headers=staff)).json()
    assert [d["about"] for d in left] == ["closure"]
    async with db.session() as s:
        bodies = list(
            await s.scalars(
                select(ReportMessage.body)
                .where(ReportMessage.report_id == report_id)
                .order_by(ReportMessage.id)
            )
        )
    assert bodies == [
        "I dispute the award: This reaches other tenants.",
        "About your dispute of the award: Reproduced across tenants: the award is raised.",
    ]
