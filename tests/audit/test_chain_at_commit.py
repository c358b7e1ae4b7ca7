"""Events are chained when their transaction commits: a writer does not hold the chain's head
while it works, a transaction reads its own events, and the order within one is kept."""

from __future__ import annotations

from sqlalchemy import text

from vulnops.audit import service as audit
from vulnops.db.database import Database


async def test_a_writer_that_has_not_committed_holds_no_one_up(db: Database) -> None:
    async with db.session() as slow, db.session() as quick:
        await audit.record(slow, subject="case:1", kind="case.opened", actor="slow")
        # The append used to lock the head until the slow writer committed.
        await quick.execute(text("SET LOCAL lock_timeout = '1s'"))
        await audit.record(quick, subject="case:2", kind="case.opened", actor="quick")
        await quick.commit()
        await slow.commit()
    async with db.session() as session:
        rows = (
            await session.execute(text("SELECT seq, actor FROM audit_events ORDER BY seq"))
        ).all()
        pending = await session.scalar(text("SELECT count(*) FROM audit_pending"))
        result = await audit.verify(session)
    # Numbered in the order the writers committed.
    assert [(row.seq, row.actor) for row in rows] == [(1, "quick"), (2, "slow")]
    assert pending == 0
    assert result.ok and result.head_seq == 2


async def test_a_transaction_reads_its_own_events_in_the_order_it_recorded_them(
    db: Database,
) -> None:
    async with db.session() as session:
        for step in ("opened", "triaged"):
            await audit.record(session, subject="case:7", kind=f"case.{step}", actor="a")
        page = await audit.list_events(session, subject="case:7", oldest_first=True)
        assert [(event.seq, event.kind) for event in page.items] == [
            (1, "case.opened"),
            (2, "case.triaged"),
        ]
        # Recorded after the read: chained at the commit again, after the others.
        await audit.record(session, subject="case:7", kind="case.closed", actor="a")
        await session.commit()
    async with db.session() as session:
        events = await audit.events_for(
            session, subject="case:7", kinds=["case.opened", "case.triaged", "case.closed"]
        )
        result = await audit.verify(session)
    assert [event.kind for event in events] == ["case.opened", "case.triaged", "case.closed"]
    assert result.ok and result.events_checked == 3
