"""The event log: append latency under concurrent writers, and how long verification takes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, summary_ms, write_results
from vulnops.audit import service as audit
from vulnops.db.database import Database

WRITERS = 8
EVENTS_PER_WRITER = 1_000
BULK_EVENTS = 200_000

# Appends BULK_EVENTS events inside PostgreSQL, chained exactly as audit.record does it, so that
# verification can be timed on a large log without hours of round trips.
BULK_APPEND = """
DO $$
DECLARE
    head_seq bigint; head_hash text; at timestamptz; payload jsonb; new_hash text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    FOR i IN 1..{count} LOOP
        at := clock_timestamp();
        payload := jsonb_build_object('n', i, 'state', 'triaged');
        new_hash := audit_event_hash(head_hash, head_seq + 1, 'case:' || (i % 5000), 'case.updated',
                                     'bench', payload, at);
        INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash, hash)
        VALUES (head_seq + 1, 'case:' || (i % 5000), 'case.updated', 'bench', payload, at,
                head_hash, new_hash);
        head_seq := head_seq + 1; head_hash := new_hash;
    END LOOP;
    UPDATE audit_chain_head SET seq = head_seq, hash = head_hash WHERE id = 1;
END $$
"""


async def _concurrent_appends(database: Database) -> dict[str, Any]:
    latencies: list[float] = []

    async def writer(number: int) -> None:
        async with database.session() as session:
            for step in range(EVENTS_PER_WRITER):
                started = time.perf_counter()
                await audit.record(
                    session,
                    subject=f"case:{number}",
                    kind="case.updated",
                    actor="bench",
                    data={"step": step},
                )
                await session.commit()
                latencies.append(time.perf_counter() - started)

    clock = Stopwatch()
    await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    total = WRITERS * EVENTS_PER_WRITER
    return {
        "writers": WRITERS,
        "events": total,
        "events_per_second": round(total / clock.seconds),
        "append_and_commit": summary_ms(latencies),
    }


async def _verification(database: Database) -> dict[str, Any]:
    async with database.session() as session:
        await session.execute(text(BULK_APPEND.replace("{count}", str(BULK_EVENTS))))
        await session.commit()
    async with database.session() as session:
        clock = Stopwatch()
        result = await audit.verify(session)
        seconds = clock.seconds
    assert result.ok, result.problem
    return {"events": result.events_checked, "verify_seconds": round(seconds, 2)}


async def main() -> dict[str, Any]:
    with server() as url:
        async with fresh_database(url, pool_size=WRITERS) as database:
            appends = await _concurrent_appends(database)
            verification = await _verification(database)
    results = {"append": appends, "verify": verification}
    write_results("audit", results)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
