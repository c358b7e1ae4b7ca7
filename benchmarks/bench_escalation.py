"""The escalation engine with 500 schedules, 2,000 users and 10,000 open pages: what one
escalation costs there, and from a trigger to the first notification handed to SMTP with the
default worker (a real aiosmtpd server in this process records when each message arrives).

The engine has no pass over the open pages to time: each due escalation is a job scheduled for
its moment (procrastinate fetches the next due job by index), so what grows with the open pages
is the cost of one escalation, measured here."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import time
from datetime import UTC, datetime
from typing import Any

import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import text

from benchmarks.common import fresh_database, server, summary_ms, write_results
from vulnops import jobs
from vulnops.oncall import engine, importer, paging, report
from vulnops.settings import Settings

USERS, SCHEDULES, OPEN_PAGES = 2_000, 500, 10_000
ESCALATIONS, TRIGGERS, REPORTS = 300, 60, 5


class Arrivals:
    """An SMTP server that notes when each page's message arrived."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        found = re.search(rb"Page #(\d+):", envelope.content)
        if found:
            self.at.setdefault(int(found.group(1)), time.perf_counter())
        return "250 OK"

    async def all_of(self, pages: set[int]) -> None:
        # The SMTP server runs in a thread of its own: an asyncio.Event would not wake us.
        while not pages <= set(self.at):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def _document() -> dict[str, Any]:
    people = [f"u{n:04d}@example.com" for n in range(USERS)]
    return {
        "schedules": [
            {
                "key": f"s{n:03d}",
                "time_zone": random.Random(n).choice(
                    ["Europe/Paris", "America/New_York", "Australia/Sydney", "UTC"]
                ),
                "layers": [
                    {
                        "name": "weekly",
                        "start": "2026-01-05T09:00",
                        "rotation": "weekly",
                        "users": people[4 * n : 4 * n + 4],
                    }
                ],
            }
            for n in range(SCHEDULES)
        ],
        "escalation_policies": [
            {
                "key": "security",
                "default": True,
                "steps": [
                    {"delay_minutes": 0, "targets": ["schedule:s000"]},
                    {"delay_minutes": 15, "targets": ["schedule:s001"]},
                ],
            }
        ],
    }


_OPEN_PAGES = """
INSERT INTO pages (dedup_key, subject, urgency, status, source, policy, created_at)
SELECT 'bench:' || n, 'Open page ' || n, 'high', 'triggered', 'alert',
       jsonb_build_object('key', 'security', 'repeat', 0, 'steps', jsonb_build_array(
         jsonb_build_object('delay_minutes', 0, 'targets',
           jsonb_build_array('schedule:s' || lpad((n % 500)::text, 3, '0'))),
         jsonb_build_object('delay_minutes', 15, 'targets', jsonb_build_array('schedule:s001')))),
       now()
FROM generate_series(1, :count) AS n
"""


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main() -> dict[str, Any]:
    results: dict[str, Any] = {"users": USERS, "schedules": SCHEDULES, "open_pages": OPEN_PAGES}
    arrivals = Arrivals()
    port = _port()
    smtp = Controller(arrivals, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port)
    try:
        with server() as url:
            async with fresh_database(url) as database:
                async with database.session() as session:
                    await session.execute(
                        text(
                            "INSERT INTO users (email, display_name, role, password_hash) "
                            "SELECT 'u' || lpad(n::text, 4, '0') || '@example.com', 'u' || n, "
                            "'responder', '' FROM generate_series(0, :count - 1) AS n"
                        ),
                        {"count": USERS},
                    )
                    await importer.import_document(
                        session,
                        text_=yaml.safe_dump(_document()),
                        source="bench",
                        actor="bench",
                        now=datetime.now(UTC),
                    )
                    await session.execute(text(_OPEN_PAGES), {"count": OPEN_PAGES})
                    await session.commit()
                    ids = list(await session.scalars(text("SELECT id FROM pages ORDER BY id")))
                samples = []
                for page_id in random.Random(3).sample(ids, ESCALATIONS):
                    started = time.perf_counter()
                    async with database.session() as session:
                        await engine.escalate(
                            session,
                            page_id=page_id,
                            step=0,
                            loop=0,
                            now=datetime.now(UTC),
                            settings=settings,
                        )
                        await session.commit()
                    samples.append(time.perf_counter() - started)
                results["one_escalation"] = summary_ms(samples)
                results["escalations_per_second_one_process"] = round(
                    len(samples) / sum(samples), 1
                )
                results["month_report"] = await _month_report(database)
                results["trigger_to_smtp"] = await _triggers(database, settings, arrivals)
    finally:
        smtp.stop()
    write_results("escalation", results)
    return results


async def _month_report(database: Any) -> dict[str, Any]:
    """The on-call report of this month over every schedule (each person's hours from the
    final schedules, the pages and their acknowledgments from one query)."""
    month = datetime.now(UTC).strftime("%Y-%m")
    samples, people = [], 0
    for _ in range(REPORTS):
        started = time.perf_counter()
        async with database.session() as session:
            found = await report.month_report(session, month=month)
        samples.append(time.perf_counter() - started)
        people = len(found.people)
    return {**summary_ms(samples), "runs": REPORTS, "people": people}


async def _triggers(database: Any, settings: Settings, arrivals: Arrivals) -> dict[str, Any]:
    """Raise a page every 250 ms with the default worker running; time to its email's arrival."""
    worker = asyncio.create_task(jobs.run_worker(settings=settings, database=database))
    raised: dict[int, float] = {}
    try:
        await asyncio.sleep(2)  # the worker is up
        for n in range(TRIGGERS):
            async with database.session() as session:
                found = await paging.raise_page(
                    session,
                    dedup_key=f"trigger:{n}",
                    title=f"Trigger {n}",
                    urgency="high",
                    source="alert",
                    services=[],
                    actor="bench",
                    now=datetime.now(UTC),
                    settings=settings,
                )
                await session.commit()
            raised[found.page.id] = time.perf_counter()
            await asyncio.sleep(0.25)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrivals.all_of(set(raised)), timeout=60)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    delays = [arrivals.at[p] - t for p, t in raised.items() if p in arrivals.at]
    return {
        "pages": len(raised),
        "arrived": len(delays),
        **summary_ms(delays),
        "target_p95_ms": 5000,
        "note": "one page raised every 250 ms; the default worker; email to aiosmtpd",
    }
