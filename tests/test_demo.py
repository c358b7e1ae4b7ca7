"""The demo seeding hook: every seeder runs once, and what it makes is consistent."""

from __future__ import annotations

from sqlalchemy import func, select

from vulnops import demo
from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.cases.models import Case
from vulnops.db.database import Database
from vulnops.intake.models import Report


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_demo_seeds_once_and_shows_every_stage(db: Database) -> None:
    first = await demo.seed(db)
    roles = {role for role, _, _ in first.credentials}
    assert {"admin", "responder", "researcher", "customer"} <= roles
    users, reports, cases = await _count(db, User), await _count(db, Report), await _count(db, Case)
    assert reports >= 20 and cases >= 8

    again = await demo.seed(db)
    assert again.credentials == []
    assert (await _count(db, User), await _count(db, Report), await _count(db, Case)) == (
        users,
        reports,
        cases,
    )
    async with db.session() as session:
        states = set(await session.scalars(select(Case.state)))
        sources = set(await session.scalars(select(Report.source)))
        overdue = await session.scalar(
            select(func.count()).select_from(Case).where(Case.next_due <= func.now())
        )
        chain = await audit.verify(session)
    assert {"new", "triaging", "remediating", "deploying", "mitigated", "closed"} <= states
    assert sources == {"researcher", "internal", "scanner"}
    assert overdue and overdue >= 1
    assert chain.ok
