"""procrastinate on our database: transactional enqueue, and retry after a worker dies."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

import jobs_probe
from vulnops import jobs
from vulnops.db.database import Database, raw_connection
from vulnops.settings import Settings

TESTS_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
async def probe_tables(db: Database) -> AsyncIterator[None]:
    async with db.session() as session:
        await (await raw_connection(session)).execute(jobs_probe.PROBE_TABLES)
        await session.commit()
    yield
    async with db.session() as session:
        await session.execute(text("DROP TABLE job_probe_attempts, job_probe_effects"))
        await session.commit()


async def _count(db: Database, table: str, key: str) -> int:
    async with db.session() as session:
        return int(
            await session.scalar(text(f"SELECT count(*) FROM {table} WHERE key = :k"), {"k": key})
            or 0
        )


async def _wait_for(db: Database, table: str, key: str, *, within: float) -> None:
    deadline = time.monotonic() + within
    while await _count(db, table, key) == 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"no row for {key!r} in {table} after {within}s")
        await asyncio.sleep(0.2)


async def _enqueue(db: Database, key: str, *, commit: bool, hang_first: bool = False) -> None:
    async with db.session() as session:
        connection = await raw_connection(session)
        await jobs_probe.probe.configure(connection=connection).defer_async(
            key=key, hang_first=hang_first
        )
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(
    db: Database, settings: Settings, probe_tables: None
) -> None:
    await _enqueue(db, "rolled-back", commit=False)
    await _enqueue(db, "committed", commit=True)
    worker = asyncio.create_task(jobs.run_worker(settings=settings, database=db, name="t"))
    try:
        await _wait_for(db, "job_probe_effects", "committed", within=30)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert await _count(db, "job_probe_attempts", "committed") == 1
    assert await _count(db, "job_probe_attempts", "rolled-back") == 0
    async with db.session() as session:
        queued = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'key' = 'rolled-back'")
        )
    assert queued == 0


def _start_worker(conninfo: str, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_WORKER_HEARTBEAT_SECONDS": "1",
        "VULNOPS_WORKER_STALLED_SECONDS": "3",
        "VULNOPS_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "vulnops", "worker", "--import", "jobs_probe", "--name", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_a_committed_job_runs_once_even_when_its_worker_is_killed(
    db: Database, conninfo: str, probe_tables: None
) -> None:
    await _enqueue(db, "survivor", commit=True, hang_first=True)
    first = _start_worker(conninfo, "first")
    second: subprocess.Popen[bytes] | None = None
    try:
        await _wait_for(db, "job_probe_attempts", "survivor", within=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert await _count(db, "job_probe_effects", "survivor") == 0

        second = _start_worker(conninfo, "second")
        await _wait_for(db, "job_probe_effects", "survivor", within=90)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    assert await _count(db, "job_probe_attempts", "survivor") == 2
    assert await _count(db, "job_probe_effects", "survivor") == 1
