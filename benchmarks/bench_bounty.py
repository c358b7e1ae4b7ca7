"""The payout ledger at 100,000 researchers and 1,000,000 entries: a researcher's balance, a
payout asked for through the service (locks, balance check, two lines), and the whole ledger's
reconciliation. Targets (the bounty issue): balance p95 < 100 ms, reconcile < 10 s."""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, summary_ms, write_results
from vulnops.bounty import ledger, reconcile

RESEARCHERS = 100_000
TRANSACTIONS = 500_000  # two lines each: 1,000,000 entries
SAMPLES = 300

# Set-based, inside PostgreSQL: the researchers, then awards and paid payouts, each transaction
# balanced as the service writes it (award: programme -> researcher; payout: researcher -> in
# flight; paid: in flight -> paid out), so that reconcile has a real ledger to read.
USERS = """
INSERT INTO users (email, display_name, role, password_hash)
SELECT 'researcher-' || i || '@example.com', 'Researcher ' || i, 'researcher', 'x'
FROM generate_series(1, :count) AS i
"""
ENTRIES = """
WITH moves AS (
    SELECT n, 1 + ((n - 1) / 5) % :researchers AS researcher,
           CASE (n - 1) % 5 WHEN 3 THEN 'payout_requested' WHEN 4 THEN 'paid'
                ELSE 'award_granted' END AS kind,
           CASE WHEN (n - 1) % 5 < 3 THEN 100000 + ((n - 1) % 5) * 25000 ELSE 150000 END
               AS amount
    FROM generate_series(1, :transactions) AS n
), lines AS (
    SELECT n, researcher, kind, amount, line,
           CASE kind
               WHEN 'award_granted' THEN CASE line WHEN 0 THEN 'programme:cloud'
                                         ELSE 'researcher:' || researcher END
               WHEN 'payout_requested' THEN CASE line WHEN 0 THEN 'researcher:' || researcher
                                            ELSE 'in_flight:' || researcher END
               ELSE CASE line WHEN 0 THEN 'in_flight:' || researcher ELSE 'paid_out' END
           END AS account
    FROM moves, (VALUES (0), (1)) AS l(line)
)
INSERT INTO bounty_ledger_entries (transaction_key, line, kind, account, researcher_id, program,
                                   amount, currency, refers_to, actor)
SELECT 'bench:' || n, line, kind, account, researcher, 'cloud',
       CASE line WHEN 0 THEN -amount ELSE amount END, 'USD',
       CASE kind WHEN 'paid' THEN 'bench:' || (n - 1) END, 'bench'
FROM lines
"""


async def main() -> dict[str, Any]:
    with server() as url:
        async with fresh_database(url) as database:
            async with database.session() as session:
                started = Stopwatch()
                await session.execute(text(USERS), {"count": RESEARCHERS})
                await session.execute(
                    text(ENTRIES),
                    {"researchers": RESEARCHERS, "transactions": TRANSACTIONS},
                )
                await session.execute(text("ANALYZE bounty_ledger_entries"))
                await session.commit()
                loaded = started.seconds
            rng = random.Random(7)
            balances = []
            async with database.session() as session:
                for _ in range(SAMPLES):
                    researcher = rng.randint(1, RESEARCHERS)
                    begun = time.perf_counter()
                    await ledger.balance(session, researcher_id=researcher, currency="USD")
                    balances.append(time.perf_counter() - begun)
            payouts = []
            for number in range(SAMPLES):
                async with database.session() as session:
                    researcher = rng.randint(1, RESEARCHERS)
                    begun = time.perf_counter()
                    await ledger.request_payout(
                        session,
                        key=f"bench-payout:{number}",
                        researcher_id=researcher,
                        program="",
                        amount=1,
                        currency="USD",
                        actor="bench",
                    )
                    await session.commit()
                    payouts.append(time.perf_counter() - begun)
            async with database.session() as session:
                began = Stopwatch()
                found = await reconcile.reconcile(session)
                reconcile_seconds = began.seconds
    results = {
        "researchers": RESEARCHERS,
        "entries": found.entries,
        "load_seconds": round(loaded, 1),
        "balance": summary_ms(balances),
        "payout_requested": summary_ms(payouts),
        "reconcile_seconds": round(reconcile_seconds, 2),
        "reconcile_ok": found.ok,
        "targets": {
            "balance p95 < 100 ms": summary_ms(balances)["p95_ms"] < 100,
            "reconcile < 10 s": reconcile_seconds < 10,
        },
    }
    write_results("bounty", results)
    return results
