"""A worker SIGKILLed in the middle of an escalation: nothing of it stays, another worker runs
it, and each person is notified once (no step lost, none twice)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from vulnops.db.database import Database
from vulnops.oncall import paging
from vulnops.settings import Settings


def _worker(conninfo: str, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_WORKER_HEARTBEAT_SECONDS": "1",
        "VULNOPS_WORKER_STALLED_SECONDS": "3",
        "VULNOPS_LOG_LEVEL": "warning",
        # Email is on (the notification is queued); nothing listens there, and the sending
        # job's failures are not this test's concern.
        "VULNOPS_SMTP_HOST": "127.0.0.1",
        "VULNOPS_SMTP_PORT": "9",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "vulnops", "worker", "--name", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _scalar(db: Database, sql: str) -> int:
    async with db.session() as session:
        return int(await session.scalar(text(sql)) or 0)


async def _until(db: Database, sql: str, *, within: float) -> None:
    deadline = time.monotonic() + within
    while not await _scalar(db, sql):
        assert time.monotonic() < deadline, f"not true after {within}s: {sql}"
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_a_worker_killed_mid_escalation_loses_nothing_and_doubles_nothing(
    db: Database, conninfo: str, oncall: None, settings: Settings
) -> None:
    async with db.session() as session:
        raised = await paging.raise_page(
            session,
            dedup_key="alert:crash",
            title="Disk full",
            urgency="high",
            source="alert",
            services=[],
            actor="t",
            now=datetime.now(UTC),
            settings=settings,
        )
        await session.commit()
    page_id = raised.page.id
    # Hold the outbox: the escalation records its notification, then waits at queueing the email,
    # in the middle of its transaction — the moment it is killed. (Held at COMMIT instead, the
    # server would still commit what the dead client had sent.)
    holder = db.session()
    session = await holder.__aenter__()
    await session.execute(text("LOCK TABLE outbound_emails IN SHARE MODE"))
    first = _worker(conninfo, "first")
    second: subprocess.Popen[bytes] | None = None
    try:
        await _until(
            db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' "
            "AND query ILIKE 'INSERT INTO outbound_emails%'",
            within=60,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        await session.rollback()
        await holder.__aexit__(None, None, None)
        assert await _scalar(db, "SELECT count(*) FROM page_notifications") == 0
        second = _worker(conninfo, "second")
        await _until(db, "SELECT count(*) FROM page_notifications", within=90)
        await _until(
            db,
            f"SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'oncall:escalate' "
            f"AND (args->>'page_id')::int = {page_id} AND (args->>'step')::int = 1",
            within=30,
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    assert await _scalar(db, "SELECT count(*) FROM page_notifications") == 1
    assert await _scalar(db, "SELECT count(*) FROM outbound_emails WHERE kind = 'page'") == 1
    # The next step was deferred once, by the run that committed.
    assert (
        await _scalar(
            db,
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'oncall:escalate' "
            "AND (args->>'step')::int = 1",
        )
        == 1
    )
