from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from vulnops.audit import service as audit
from vulnops.audit.schemas import VerifyResult
from vulnops.db.database import Database


async def _seed(db: Database, count: int) -> None:
    async with db.session() as session:
        for number in range(count):
            await audit.record(
                session,
                subject=f"case:{number % 3}",
                kind="case.updated",
                actor="alice@example.com",
                data={"n": number, "nested": {"b": 1.5, "a": [1, "x"]}},
            )
        await session.commit()


async def _tamper(db: Database, statement: str) -> None:
    """What an attacker with SQL access does: bypass the append-only trigger and edit rows."""
    async with db.session() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(statement))
        await session.commit()


async def _verify(db: Database) -> VerifyResult:
    async with db.session() as session:
        return await audit.verify(session)


async def test_an_untouched_chain_verifies(db: Database) -> None:
    await _seed(db, 10)
    result = await _verify(db)
    assert result.ok, result.problem
    assert result.events_checked == 10
    assert result.head_seq == 10


async def test_events_are_numbered_without_gaps_and_linked(db: Database) -> None:
    await _seed(db, 5)
    async with db.session() as session:
        rows = (
            await session.execute(
                text("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq")
            )
        ).all()
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == ""
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert len({row.hash for row in rows}) == 5


async def test_a_changed_event_is_reported(db: Database) -> None:
    await _seed(db, 10)
    await _tamper(db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 4")
    result = await _verify(db)
    assert not result.ok
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (4, "changed")


async def test_a_changed_data_field_is_reported(db: Database) -> None:
    await _seed(db, 6)
    await _tamper(db, "UPDATE audit_events SET data = jsonb_set(data, '{n}', '99') WHERE seq = 6")
    result = await _verify(db)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (6, "changed")


async def test_a_deleted_event_is_reported(db: Database) -> None:
    await _seed(db, 10)
    await _tamper(db, "DELETE FROM audit_events WHERE seq IN (5, 6)")
    result = await _verify(db)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (5, "deleted")
    assert "5..6" in result.problem.message


async def test_deleting_the_newest_events_is_reported(db: Database) -> None:
    await _seed(db, 10)
    await _tamper(db, "DELETE FROM audit_events WHERE seq > 7")
    result = await _verify(db)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (8, "truncated")


async def test_a_forged_event_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    await _seed(db, 10)
    await _tamper(
        db,
        "UPDATE audit_events SET actor = 'mallory', hash = audit_event_hash(prev_hash, seq, "
        "subject, kind, 'mallory', data, occurred_at) WHERE seq = 3",
    )
    result = await _verify(db)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (4, "broken_link")


async def test_an_event_inserted_after_the_end_is_reported(db: Database) -> None:
    await _seed(db, 3)
    await _tamper(
        db,
        "INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash, hash) "
        "SELECT 4, 'case:1', 'case.closed', 'mallory', '{}', now(), hash, "
        "audit_event_hash(hash, 4, 'case:1', 'case.closed', 'mallory', '{}', now()) "
        "FROM audit_events WHERE seq = 3",
    )
    result = await _verify(db)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (4, "appended")


async def test_ordinary_sql_cannot_change_or_delete_events(db: Database) -> None:
    await _seed(db, 2)
    async with db.session() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 1"))
        await session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("DELETE FROM audit_events WHERE seq = 1"))


async def test_ordinary_sql_cannot_truncate_the_log(db: Database) -> None:
    """TRUNCATE fires no row trigger: it emptied the log in one statement until 0017."""
    await _seed(db, 3)
    for statement in (
        "TRUNCATE audit_events",
        "TRUNCATE audit_chain_head, audit_events RESTART IDENTITY",
    ):
        async with db.session() as session:
            with pytest.raises(DBAPIError, match=r"append-only \(TRUNCATE refused\)"):
                await session.execute(text(statement))
    result = await _verify(db)
    assert result.ok, result.problem
    assert result.events_checked == 3


@pytest.mark.parametrize(
    "statements",
    [
        ["SET LOCAL session_replication_role = replica", "TRUNCATE audit_events"],
        [
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate",
            "TRUNCATE audit_events",
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate",
        ],
    ],
    ids=["superuser-replica-role", "owner-disables-trigger"],
)
async def test_a_truncation_past_the_trigger_is_reported(
    db: Database, statements: list[str]
) -> None:
    """What a superuser or the tables' owner can still do, and that verify then reports it."""
    await _seed(db, 4)
    async with db.session() as session:
        for statement in statements:
            await session.execute(text(statement))
        await session.commit()
    result = await _verify(db)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (1, "truncated")
    assert "1..4" in result.problem.message


async def test_an_event_rolls_back_with_its_transaction(db: Database) -> None:
    await _seed(db, 2)
    async with db.session() as session:
        await audit.record(session, subject="case:9", kind="case.opened", actor="bob")
        await session.rollback()
    await _seed(db, 1)
    result = await _verify(db)
    assert result.ok
    assert result.events_checked == 3


async def test_concurrent_writers_keep_one_unbroken_chain(db: Database) -> None:
    async def writer(number: int) -> None:
        async with db.session() as session:
            for step in range(5):
                await audit.record(
                    session, subject=f"w:{number}", kind="step", actor="w", data={"s": step}
                )
                await session.commit()

    await asyncio.gather(*(writer(n) for n in range(5)))
    result = await _verify(db)
    assert result.ok, result.problem
    assert result.events_checked == 25


async def test_cli_audit_verify_detects_an_edit(db: Database, conninfo: str) -> None:
    await _seed(db, 5)
    env = {**os.environ, "VULNOPS_DATABASE_URL": conninfo}
    command = [sys.executable, "-m", "vulnops", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert intact.returncode == 0, intact.stderr
    assert "5 events" in intact.stdout

    await _tamper(db, "UPDATE audit_events SET kind = 'case.closed' WHERE seq = 2")
    broken = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert "event 2" in broken.stderr
    assert "changed" in broken.stderr
