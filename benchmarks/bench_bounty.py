"""The payout ledger at 100,000 researchers and 1,000,000 entries: a researcher's balance, a
payout asked for through the service (locks, balance check, two lines), and the whole ledger's
reconciliation; and reputation: 1,000,000 events of the log scored, then the leaderboards
(staff's, and the public hall of fame of the 30% who chose to be named) and a researcher's
standing. Targets (the bounty issue): balance and leaderboard p95 < 100 ms, reconcile < 10 s."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, summary_ms, write_results
from vulnops.bounty import ledger, reconcile, reputation

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

EVENTS = 1_000_000
REPORTS = 300_000
# Three reports per researcher, and the log of two years of their triage: most triaged, some
# closed as duplicates, not applicable or spam, one in ten awarded (by severity rank 0..3).
REPORT_ROWS = """
INSERT INTO reports (source, state, title, description, reporter_id, received_at)
SELECT 'researcher', 'triaged', 'Report ' || n, 'Steps.', 1 + (n - 1) % :researchers,
       now() - ((n % 730) || ' days')::interval
FROM generate_series(1, :reports) AS n
"""
EVENT_ROWS = """
INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash, hash)
SELECT n, 'report:' || (1 + (n - 1) % :reports),
       CASE WHEN n % 10 = 0 THEN 'bounty.award_granted' ELSE 'report.state_changed' END,
       'bench',
       CASE WHEN n % 10 = 0 THEN jsonb_build_object(
                'report', 1 + (n - 1) % :reports, 'severity_rank', n % 4,
                'researchers', jsonb_build_array(1 + ((n - 1) % :reports) % :researchers))
            WHEN n % 10 < 7 THEN '{"to": "triaged"}'::jsonb
            ELSE jsonb_build_object('to', 'closed', 'close_reason',
                (ARRAY['duplicate', 'not_applicable', 'spam'])[n % 10 - 6]) END,
       now() - ((n % 730) || ' days')::interval, '', ''
FROM generate_series(1, :events) AS n
"""
NAMED = """
INSERT INTO bounty_hall_of_fame (researcher_id, public_name, listed)
SELECT id, 'Researcher ' || id, true FROM users WHERE id % 10 < 3
"""


async def _reputation(database: Any, rng: random.Random) -> dict[str, Any]:
    async with database.session() as session:
        await session.execute(text(REPORT_ROWS), {"researchers": RESEARCHERS, "reports": REPORTS})
        await session.execute(
            text(EVENT_ROWS),
            {"researchers": RESEARCHERS, "reports": REPORTS, "events": EVENTS},
        )
        await session.execute(text(NAMED))
        await session.execute(text("ANALYZE"))
        await session.commit()
    began, points = Stopwatch(), 0
    while True:
        async with database.session() as session:
            scored = await reputation.score(session)
            await session.commit()
        points += scored.points
        if not scored.events:
            break
    scoring = began.seconds
    async with database.session() as session:
        await session.execute(text("ANALYZE bounty_reputation_totals"))
        await session.commit()
    quarter = reputation.quarter(datetime.now(UTC))
    timings: dict[str, list[float]] = {"staff": [], "public": [], "standing": []}
    async with database.session() as session:
        for number in range(SAMPLES):
            period = (quarter, str(datetime.now(UTC).year), "all")[number % 3]
            for board, public in (("staff", False), ("public", True)):
                begun = time.perf_counter()
                await reputation.leaderboard(session, period=period, limit=25, public=public)
                timings[board].append(time.perf_counter() - begun)
            begun = time.perf_counter()
            await reputation.standing(
                session, researcher_id=rng.randint(1, RESEARCHERS), period=period
            )
            timings["standing"].append(time.perf_counter() - begun)
    return {
        "events": EVENTS,
        "points_written": points,
        "scoring_seconds": round(scoring, 1),
        "events_per_second": round(EVENTS / scoring),
        "leaderboard": summary_ms(timings["staff"]),
        "hall_of_fame": summary_ms(timings["public"]),
        "standing": summary_ms(timings["standing"]),
    }


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
            recognition = await _reputation(database, rng)
    worst_board = max(
        recognition[name]["p95_ms"] for name in ("leaderboard", "hall_of_fame", "standing")
    )
    results = {
        "researchers": RESEARCHERS,
        "entries": found.entries,
        "load_seconds": round(loaded, 1),
        "balance": summary_ms(balances),
        "payout_requested": summary_ms(payouts),
        "reconcile_seconds": round(reconcile_seconds, 2),
        "reconcile_ok": found.ok,
        "reputation": recognition,
        "targets": {
            "leaderboard, hall of fame and standing p95 < 100 ms": worst_board < 100,
            "balance p95 < 100 ms": summary_ms(balances)["p95_ms"] < 100,
            "reconcile < 10 s": reconcile_seconds < 10,
        },
    }
    write_results("bounty", results)
    return results
