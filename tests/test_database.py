"""The connection pool: a connection the database closed while it sat idle is replaced before
anyone uses it, without a ping on every checkout; every connection runs without JIT."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from vulnops.db.database import Database


async def _backend_pid(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)


async def _terminate(conninfo: str, pid: int) -> None:
    """Close ``pid``'s connection from the server's side, as a restart or an idle timeout does."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):
            gone = conn.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", (pid,)
            ).fetchone()
            if gone and gone[0]:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} did not go")


async def test_an_idle_connection_the_database_closed_is_replaced_before_use(
    conninfo: str,
) -> None:
    database = Database(conninfo, pool_size=1, idle_before_ping=0.0)
    try:
        closed = await _backend_pid(database)
        await _terminate(conninfo, closed)
        assert await _backend_pid(database) not in (0, closed)
    finally:
        await database.dispose()


async def test_a_connection_just_used_is_not_pinged(conninfo: str) -> None:
    """The control: within the idle time no ping runs, so the closed connection is used as it
    is, and fails (which is what shows the test above replaced it because of the ping)."""
    database = Database(conninfo, pool_size=1, idle_before_ping=3600.0)
    try:
        await _terminate(conninfo, await _backend_pid(database))
        with pytest.raises(OperationalError):
            await _backend_pid(database)
        # The failure invalidated the pool: the next checkout connects anew.
        assert await _backend_pid(database) > 0
    finally:
        await database.dispose()


async def test_connections_run_without_jit(db: Database) -> None:
    async with db.session() as session:
        assert await session.scalar(text("SHOW jit")) == "off"
