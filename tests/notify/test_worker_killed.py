"""A delivery worker killed (SIGKILL) in the middle of a batch: no delivery is lost, and the
receiver processes every message once (a message in flight at the kill is sent again with the
same ``webhook-id``, which is how a receiver knows it has it already)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from notify_world import Receiver, World, draft
from sqlalchemy import text

from helpers import run_jobs_until
from vulnops.db.database import Database
from vulnops.fleet import blast
from vulnops.notify import service
from vulnops.notify.schemas import DraftIn
from vulnops.settings import Settings

TENANTS = 400
CONCURRENCY = 10


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vulnops", "worker", "--name", "doomed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_a_killed_worker_loses_no_delivery(
    db: Database,
    conninfo: str,
    settings: Settings,
    make_world: Any,
    receiver: tuple[Receiver, str],
) -> None:
    hook, url = receiver
    hook.delay = 0.02
    world: World = await make_world(url)
    async with db.session() as session:
        await session.execute(
            text(
                "INSERT INTO tenants (key, name) SELECT 'bulk-' || i, 'Bulk ' || i "
                "FROM generate_series(1, :n) AS i"
            ),
            {"n": TENANTS},
        )
        await session.execute(
            text(
                "INSERT INTO tenant_contacts (tenant_id, channel, address) "
                "SELECT id, 'webhook', :url FROM tenants WHERE key LIKE 'bulk-%'"
            ),
            {"url": url},
        )
        await session.execute(
            text(
                "INSERT INTO resources (tenant_id, unit_id, external_id) "
                "SELECT t.id, (SELECT u.id FROM deployment_units u JOIN services s "
                "ON s.id = u.service_id WHERE s.key = 'storage' ORDER BY u.id LIMIT 1), 'r' "
                "FROM tenants t WHERE t.key LIKE 'bulk-%'"
            )
        )
        await blast.compute(
            session,
            case_id=world.case_id,
            criteria=blast.BlastCriteria(services=["storage"]),
            actor="test",
        )
        now = datetime.now(UTC)
        # One delivery job, so that at most CONCURRENCY requests are in flight at the kill.
        ours = settings.model_copy(
            update={"notify_webhook_allow_private": True, "notify_parallel_jobs": 1}
        )
        await service.save_draft(
            session,
            case_id=world.case_id,
            draft=DraftIn.model_validate(draft()),
            actor="w@x",
            settings=ours,
        )
        await service.decide(
            session,
            case_id=world.case_id,
            actor="c@x",
            approve=True,
            comment=None,
            settings=ours,
            now=now,
        )
        await service.send(session, case_id=world.case_id, actor="c@x", settings=ours, now=now)
        secrets = await session.execute(text("SELECT key, webhook_secret FROM tenants"))
        hook.secrets = dict(secrets.all())  # type: ignore[arg-type]
        expected = set(
            await session.scalars(
                text("SELECT 'vulnops-delivery-' || id FROM deliveries WHERE channel = 'webhook'")
            )
        )
        await session.commit()
    assert len(expected) == TENANTS + 2

    env = {
        **os.environ,
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
        "VULNOPS_NOTIFY_WEBHOOK_CONCURRENCY": str(CONCURRENCY),
        "VULNOPS_NOTIFY_BATCH_SIZE": "100",
        "VULNOPS_NOTIFY_PARALLEL_JOBS": "1",
        "VULNOPS_NOTIFY_LEASE_SECONDS": "3",
        "VULNOPS_LOG_LEVEL": "warning",
    }
    worker = _worker(env)
    try:
        deadline = time.monotonic() + 120
        while len(hook.accepted) < 100:  # the middle of the second batch of 100
            assert worker.poll() is None, "the worker stopped by itself"
            assert time.monotonic() < deadline, "the worker delivered nothing"
            await asyncio.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    at_kill = len(hook.accepted)
    assert at_kill < len(expected), "the worker had finished before the kill"

    # Another worker takes over once the dead one's leases expire.
    after = settings.model_copy(
        update={
            "notify_webhook_allow_private": True,
            "notify_lease_seconds": 3,
            "worker_stalled_seconds": 2,
        }
    )

    async def settled() -> bool:
        async with db.session() as session:
            left = await session.scalar(
                text("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'retrying')")
            )
            return left == 0

    await run_jobs_until(db, after, settled, within=180)
    async with db.session() as session:
        statuses = await session.execute(
            text("SELECT status, count(*) FROM deliveries WHERE channel = 'webhook' GROUP BY 1")
        )
        assert dict(statuses.all()) == {"delivered": TENANTS + 2}  # type: ignore[arg-type]
    # Nothing lost: every message reached the receiver and was processed exactly once.
    assert set(hook.processed) == expected
    assert hook.bad_signatures == 0
    # Sent again: at most what was in flight when the worker died.
    repeats = len(hook.accepted) - len(set(hook.accepted))

    assert repeats <= CONCURRENCY, f"{repeats} messages were sent twice"
