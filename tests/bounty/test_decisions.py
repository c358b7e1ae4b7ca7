"""Award decisions on PostgreSQL: a triaged report's proposal from its programme's table (kept
with the award), an adjustment with its reason, a second person above the configured amount,
and the grant into the ledger; what is refused writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpers import MakeUser
from vulnops.auth.roles import Role
from vulnops.bounty import decisions, ledger, programs, reconcile
from vulnops.bounty.awards import Assessment
from vulnops.bounty.models import BountyAward, BountyLedgerEntry
from vulnops.bounty.tables import load_table
from vulnops.db.database import Database
from vulnops.errors import Conflict, Forbidden, Invalid
from vulnops.intake.models import Report
from vulnops.settings import Settings

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
SETTINGS = Settings()
RCE = Assessment("remote_code_execution", "critical", "high")
SMALL = Assessment("spoofing", "important", "low")


async def _report(
    s: AsyncSession,
    reporter: int | None,
    *,
    state: str = "triaged",
    service: str = "storage",
    duplicate_of: int | None = None,
) -> int:
    report = Report(
        source="researcher",
        state=state,
        title="A bug",
        description="It breaks.",
        service=service,
        reporter_id=reporter,
        duplicate_of_id=duplicate_of,
    )
    s.add(report)
    await s.flush()
    return report.id


async def _programme(s: AsyncSession, services: list[str] | None = None) -> None:
    await programs.create_program(
        s,
        key="cloud",
        name="Cloud services",
        table=load_table(),
        scope=programs.Scope(services=services or []),
        starts_at=NOW - timedelta(days=30),
        actor="lead@example.com",
    )


async def test_a_large_award_needs_a_second_person_then_is_granted(
    db: Database, make_user: MakeUser
) -> None:
    ada = (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await _programme(s)
        report = await _report(s, ada)
        award = await decisions.propose(
            s,
            report_id=report,
            assessment=RCE,
            actor="triager@example.com",
            settings=SETTINGS,
            now=NOW,
        )
        assert (award.status, award.amount, award.currency) == ("proposed", 60_000_00, "USD")
        assert award.table_version == 1 and award.split == {ada: 60_000_00}
        assert award.reasons[0].startswith("cloud v1: remote_code_execution, critical")
        adjusted = await decisions.adjust(
            s,
            award_id=award.id,
            amount=55_000_00,
            reason="reproduction needed our help",
            actor="triager@example.com",
        )
        assert (adjusted.amount, adjusted.proposed_amount) == (55_000_00, 60_000_00)
        waiting = await decisions.submit(
            s, award_id=award.id, actor="lead@example.com", settings=SETTINGS, now=NOW
        )
        assert waiting.status == "pending_approval"
        for author in ("triager@example.com", "lead@example.com"):
            with pytest.raises(Forbidden, match="four eyes"):
                await decisions.decide(
                    s,
                    award_id=award.id,
                    actor=author,
                    approve=True,
                    comment=None,
                    settings=SETTINGS,
                    now=NOW,
                )
        granted = await decisions.decide(
            s,
            award_id=award.id,
            actor="finance@example.com",
            approve=True,
            comment=None,
            settings=SETTINGS,
            now=NOW,
        )
        assert (granted.status, granted.decided_by) == ("approved", "finance@example.com")
        owed = await ledger.balance(s, researcher_id=ada, currency="USD")
        assert owed.available == 55_000_00
        assert (await reconcile.reconcile(s)).ok
        await s.commit()


async def test_a_small_award_is_granted_at_once_and_split_between_co_reporters(
    db: Database, make_user: MakeUser
) -> None:
    ada, bo = (await make_user(Role.RESEARCHER)).id, (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await _programme(s)
        report = await _report(s, ada)
        award = await decisions.propose(
            s,
            report_id=report,
            assessment=SMALL,
            actor="triager@example.com",
            settings=SETTINGS,
            now=NOW,
            co_reporters={ada: Fraction(2, 3), bo: Fraction(1, 3)},
        )
        assert award.split == {ada: 1_666_67, bo: 833_33}
        done = await decisions.submit(
            s, award_id=award.id, actor="triager@example.com", settings=SETTINGS, now=NOW
        )
        assert done.status == "approved"
        assert (await ledger.balance(s, researcher_id=bo, currency="USD")).available == 833_33
        again = await s.scalar(select(func.count()).select_from(BountyLedgerEntry))
        with pytest.raises(Conflict, match="not proposed"):
            await decisions.submit(
                s, award_id=award.id, actor="triager@example.com", settings=SETTINGS, now=NOW
            )
        assert await s.scalar(select(func.count()).select_from(BountyLedgerEntry)) == again == 4


async def test_the_table_in_force_is_kept_with_the_award(db: Database, make_user: MakeUser) -> None:
    ada = (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await _programme(s)
        award = await decisions.propose(
            s,
            report_id=await _report(s, ada),
            assessment=SMALL,
            actor="t",
            settings=SETTINGS,
            now=NOW,
        )
        programme = await s.scalar(select(programs.BountyProgram))
        assert programme is not None
        programme.award_table = {**programme.award_table, "version": 2, "minimum": 1}
        await s.flush()
        kept = await s.get(BountyAward, award.id)
        assert kept is not None and kept.table_snapshot["version"] == 1


async def test_what_earns_nothing_is_refused_and_nothing_is_written(
    db: Database, make_user: MakeUser
) -> None:
    ada = (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await _programme(s, services=["storage"])
        first = await _report(s, ada)
        cases = {
            "out of scope": (await _report(s, ada, service="billing"), RCE),
            "is new: an award is decided once it is triaged": (
                await _report(s, ada, state="new"),
                RCE,
            ),
            "pays duplicates nothing": (await _report(s, ada, duplicate_of=first), RCE),
            "only a researcher's report": (await _report(s, None), RCE),
            "has no impact 'phishing'": (first, Assessment("phishing", "critical", "high")),
            "denial_of_service at critical earns no award": (
                first,
                Assessment("denial_of_service", "critical", "high"),
            ),
        }
        for message, (report, assessment) in cases.items():
            with pytest.raises(Invalid, match=message):
                await decisions.propose(
                    s,
                    report_id=report,
                    assessment=assessment,
                    actor="t",
                    settings=SETTINGS,
                    now=NOW,
                )
        award = await decisions.propose(
            s, report_id=first, assessment=SMALL, actor="t", settings=SETTINGS, now=NOW
        )
        await s.commit()
    async with db.session() as s:
        with pytest.raises(Conflict, match="already has an award"):
            await decisions.propose(
                s, report_id=first, assessment=SMALL, actor="t", settings=SETTINGS, now=NOW
            )
    async with db.session() as s:
        with pytest.raises(Invalid, match="outside the table's bounds"):
            await decisions.adjust(s, award_id=award.id, amount=1, reason="x", actor="t")
        with pytest.raises(Invalid, match="say why"):
            await decisions.adjust(s, award_id=award.id, amount=2_000_00, reason=" ", actor="t")
        assert await s.scalar(select(func.count()).select_from(BountyAward)) == 1
        assert await s.scalar(select(func.count()).select_from(BountyLedgerEntry)) == 0
