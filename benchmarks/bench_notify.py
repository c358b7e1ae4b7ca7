"""Customer notification at scale, on the same 2-core machine as the database:

- sending an advisory to 1,000,000 affected tenants: the audience snapshot and the delivery
  records (portal, email, webhook) made in one transaction;
- webhook deliveries to a local receiver and email to a local SMTP server, each worked off by
  two ``vulnops worker`` processes: deliveries per second from the send to the last delivery.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, write_results
from vulnops import jobs
from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.fleet import blast
from vulnops.notify import service
from vulnops.notify.schemas import DraftIn
from vulnops.settings import Settings

AUDIENCE = 1_000_000
assert jobs.app  # the domains' tasks are bound to the application, as in serve and worker
WEBHOOK_SHARE = 0.3  # of the million, tenants that also have a webhook
THROUGHPUT_TENANTS = 30_000
WORKERS = 2

WORLD = [
    "INSERT INTO services (key, name, owner_team) VALUES ('storage', 'Object Storage', 'x')",
    "INSERT INTO regions (key, name, geography, canary, traffic_weight) "
    "VALUES ('eu-west-1', 'EU West 1', 'eu', false, 1)",
    "INSERT INTO deployment_units (service_id, region_id, scale_unit, current_version, "
    "traffic_share) SELECT s.id, r.id, 'su-' || i, '2026.11.1', 0.01 "
    "FROM services s, regions r, generate_series(1, 20) AS i",
    "INSERT INTO tenants (key, name) SELECT 'tenant-' || i, 'Tenant ' || i "
    "FROM generate_series(1, :tenants) AS i",
    "INSERT INTO resources (tenant_id, unit_id, external_id) SELECT t.id, "
    "(SELECT min(id) FROM deployment_units) + t.id % 20, 'bucket-' || t.id FROM tenants t",
]


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own commands
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _world(
    database: Database, *, tenants: int, email: bool, webhook: str | None, webhook_share: float
) -> int:
    async with database.session() as session:
        for statement in WORLD:
            await session.execute(text(statement), {"tenants": tenants})
        if email:
            # 500 recipient domains, so that per-domain limits are the realistic kind.
            await session.execute(
                text(
                    "INSERT INTO tenant_contacts (tenant_id, channel, address) "
                    "SELECT id, 'email', 'security@t' || id || '.domain' || (id % 500) || '.test' "
                    "FROM tenants"
                )
            )
        if webhook:
            await session.execute(
                text(
                    "INSERT INTO tenant_contacts (tenant_id, channel, address) "
                    "SELECT id, 'webhook', :url FROM tenants WHERE id % 1000 < :share"
                ),
                {"url": webhook, "share": int(webhook_share * 1000)},
            )
        case = await cases.open_case(
            session,
            title="Bench",
            summary="",
            services=["storage"],
            actor="bench",
            settings=Settings(),
            now=datetime.now(UTC),
        )
        await blast.compute(
            session,
            case_id=case.id,
            criteria=blast.BlastCriteria(services=["storage"]),
            actor="bench",
        )
        await session.commit()
    async with database.session() as session:
        await session.execute(text("ANALYZE"))
    return case.id


async def _send(database: Database, case_id: int, settings: Settings) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with database.session() as session:
        await service.save_draft(
            session,
            case_id=case_id,
            draft=DraftIn(
                title="Bench advisory",
                summary="What happened.",
                exposed_since=now - timedelta(days=1),
            ),
            actor="bench",
            settings=settings,
        )
        await service.decide(
            session,
            case_id=case_id,
            actor="bench-approver",
            approve=True,
            comment=None,
            settings=settings,
            now=now,
        )
        await session.commit()
    watch = Stopwatch()
    async with database.session() as session:
        result = await service.send(
            session, case_id=case_id, actor="bench", settings=settings, now=now
        )
        await session.commit()
    return {
        "recipients": result.recipients,
        "deliveries": result.deliveries,
        "seconds": round(watch.seconds, 1),
    }


async def _records(url: str) -> dict[str, Any]:
    settings = Settings(database_url=url, smtp_host="127.0.0.1", smtp_port=2525)
    async with fresh_database(url) as database:
        watch = Stopwatch()
        case_id = await _world(
            database,
            tenants=AUDIENCE,
            email=True,
            webhook="https://hooks.example.com/x",
            webhook_share=WEBHOOK_SHARE,
        )
        made = round(watch.seconds, 1)
        sent = await _send(database, case_id, settings)
    return {"tenants": AUDIENCE, "world_seconds": made, "send": sent}


async def _wait_until_done(database: Database, channel: str) -> dict[str, int]:
    """Poll until no delivery of ``channel`` waits; then its deliveries by status."""
    started = time.monotonic()
    query = "SELECT status, count(*) FROM deliveries WHERE channel = :c GROUP BY status"
    while True:
        async with database.session() as session:
            rows = await session.execute(text(query), {"c": channel})
            statuses = {status: int(count) for status, count in rows.all()}
        if not statuses.get("pending") and not statuses.get("retrying"):
            return statuses
        if time.monotonic() - started > 900:
            raise RuntimeError(f"{channel} deliveries left after 15 minutes: {statuses}")
        await asyncio.sleep(0.2)


async def _throughput(url: str, channel: str) -> dict[str, Any]:
    port = _free_port()
    kind = "webhook" if channel == "webhook" else "smtp"
    receiver = _start([sys.executable, "-m", "benchmarks.notify_receivers", kind, str(port)])
    try:
        await asyncio.sleep(2)
        webhook = f"http://127.0.0.1:{port}/hook" if channel == "webhook" else None
        async with fresh_database(url) as database:
            case_id = await _world(
                database,
                tenants=THROUGHPUT_TENANTS,
                email=channel == "email",
                webhook=webhook,
                webhook_share=1.0,
            )
            env = {
                **os.environ,
                "VULNOPS_DATABASE_URL": database.conninfo,
                "VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
                "VULNOPS_SMTP_HOST": "127.0.0.1",
                "VULNOPS_SMTP_PORT": str(port),
                "VULNOPS_NOTIFY_EMAIL_PER_DOMAIN_PER_MINUTE": "100000",
                "VULNOPS_LOG_LEVEL": "warning",
            }
            settings = Settings(
                database_url=database.conninfo,
                smtp_host="127.0.0.1",
                smtp_port=port,
                notify_parallel_jobs=WORKERS * 2,
            )
            command = str(Path(sys.executable).parent / "vulnops")
            workers = [_start([command, "worker", "--name", f"w{i}"], env) for i in range(WORKERS)]
            try:
                await asyncio.sleep(5)  # the workers are up before the clock starts
                sent = await _send(database, case_id, settings)
                watch = Stopwatch()
                statuses = await _wait_until_done(database, channel)
                seconds = watch.seconds
            finally:
                _stop(workers)  # before their database is dropped
    finally:
        _stop([receiver])
    delivered = int(statuses.get("delivered", 0))
    return {
        "deliveries": delivered,
        "statuses": statuses,
        "workers": WORKERS,
        "seconds": round(seconds, 1),
        "per_second": round(delivered / seconds),
        "send_seconds": sent["seconds"],
    }


async def main() -> dict[str, Any]:
    with server() as url:
        records = await _records(url)
        webhook = await _throughput(url, "webhook")
        print(json.dumps(webhook), flush=True)
        email = await _throughput(url, "email")
    print(json.dumps(records), flush=True)
    results = {
        "delivery_records": records,
        "webhook": webhook,
        "email": email,
        "targets": {
            "records_seconds": 60,
            "webhook_per_second": 1000,
            "email_per_second": 500,
        },
    }
    write_results("notify", results)
    return results
