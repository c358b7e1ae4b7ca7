"""On call: who is on call on a 3-layer schedule that has run for a year (the issue's figure:
under 50 ms), through the pure function and through the database; and the final schedule of a
whole year."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from benchmarks.common import fresh_database, server, summary_ms, write_results
from vulnops.auth.models import User
from vulnops.oncall import importer, service
from vulnops.oncall import schedule as pure

START = datetime(2026, 1, 5, 9, 0)  # a Monday
NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)  # a year later
QUERIES = 200
PEOPLE = [f"person{n:02d}@example.com" for n in range(24)]


def _document() -> dict[str, Any]:
    """Hourly, daily office-hours and an RRULE layer, and an override a day for the year."""
    rng = random.Random(7)
    overrides = []
    for day in range(365):
        begins = START + timedelta(days=day, hours=rng.randrange(0, 20))
        overrides.append(
            {
                "user": rng.choice(PEOPLE),
                "start": begins.isoformat(timespec="minutes"),
                "end": (begins + timedelta(hours=3)).isoformat(timespec="minutes"),
            }
        )
    return {
        "schedules": [
            {
                "key": "busy",
                "time_zone": "Europe/Paris",
                "layers": [
                    {
                        "name": "hourly",
                        "start": START.isoformat(),
                        "rotation": "hourly",
                        "users": PEOPLE[:8],
                    },
                    {
                        "name": "office",
                        "start": START.isoformat(),
                        "rotation": "daily",
                        "users": PEOPLE[8:16],
                        "restrictions": [
                            {
                                "days": ["mon", "tue", "wed", "thu", "fri"],
                                "start": "09:00",
                                "end": "17:00",
                            }
                        ],
                    },
                    {
                        "name": "twice-weekly",
                        "start": START.isoformat(),
                        "rotation": "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=0",
                        "users": PEOPLE[16:],
                        "time_zone": "America/New_York",
                        "restrictions": [
                            {"days": ["sat", "sun"], "start": "00:00", "end": "00:00"}
                        ],
                    },
                ],
                "overrides": overrides,
            }
        ]
    }


def _timed(work: Any, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return samples


async def main() -> dict[str, Any]:
    rng = random.Random(11)
    instants = [NOW - timedelta(minutes=rng.randrange(0, 365 * 24 * 60)) for _ in range(QUERIES)]
    results: dict[str, Any] = {"queries": QUERIES, "layers": 3, "overrides": 365}
    with server() as url:
        async with fresh_database(url) as database:
            async with database.session() as session:
                session.add_all(
                    User(email=email, display_name=email, role="responder", password_hash="")
                    for email in PEOPLE
                )
                await session.flush()
                await importer.import_document(
                    session,
                    text_=yaml.safe_dump(_document()),
                    source="bench",
                    actor="bench",
                    now=NOW,
                )
                await session.commit()
            async with database.session() as session:
                stored = await service.load(session, key="busy")
            pure_samples = _timed(lambda: pure.who(stored.schedule, instants.pop()), QUERIES)
            results["who_pure"] = summary_ms(pure_samples)
            stored_samples = []
            for at in [NOW - timedelta(hours=n * 37) for n in range(QUERIES)]:
                started = time.perf_counter()
                async with database.session() as session:
                    await service.who(session, key="busy", at=at)
                stored_samples.append(time.perf_counter() - started)
            results["who_through_the_database"] = summary_ms(stored_samples)
            year = _timed(lambda: pure.final(stored.schedule, NOW - timedelta(days=365), NOW), 5)
            results["final_schedule_of_a_year"] = summary_ms(year)
    results["target_ms"] = 50
    write_results("oncall", results)
    return results
