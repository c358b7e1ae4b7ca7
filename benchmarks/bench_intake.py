"""Intake and triage at scale: 100k reports and 20k cases, measured through the HTTP API of
`vulnops serve` as it starts by default (a web process per CPU, each with its job worker) in its
own process, on the same 2-core machine as the database and the load generator.

- case list and search, report list and search: p50/p95 over many requests, one at a time;
- duplicate candidates for a new report;
- report submission, open loop (``benchmarks/loadgen.py``, in processes of its own): a partner
  token offering 100 and 200 a second for 30 s, then 300 a second for 60 s; the reports are
  counted in the database afterwards (none lost, none twice); researchers offering 100 a second
  (each within the hourly quota, which is then checked on every submission);
- the case list (a random page of 50) offered 50 a second for 30 s, then 200 a second for 60 s.

Each open-loop run reports the CPU the server's processes, PostgreSQL's and the generator's used
per request: on two cores that, not any lock, is what bounds the rate.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import psutil
from sqlalchemy import text

from benchmarks import open_loop
from benchmarks.common import fresh_database, server, summary_ms, write_results
from benchmarks.intake_data import CASES, PLACES, REPORTS, RESEARCHERS, SERVICES, VULNS, WORDS, fill
from benchmarks.open_loop import Machine
from vulnops.db.database import Database
from vulnops.settings import usable_cpus

SAMPLES = 300
# Submissions a second, offered by a partner token: a curve, then the target for a minute.
CURVE_RATES, CURVE_SECONDS = (100, 200), 30
TARGET_RATE, TARGET_SECONDS = 300, 60
# Researchers offering 100 a second for 30 s, each within the quota of 60 an hour: beside the
# partner's 100 a second, what checking the quota on every submission costs.
RESEARCHER_RATE, RESEARCHER_SECONDS = 100, 30
# The case list (a random page of 50): a curve, then the target for a minute.
CASE_LIST_CURVE_RATES, CASE_LIST_CURVE_SECONDS = (50,), 30
CASE_LIST_RATE, CASE_LIST_SECONDS = 200, 60


async def _timed(
    client: httpx.AsyncClient, requests: list[tuple[str, dict[str, Any]]]
) -> dict[str, float]:
    samples = []
    for path, params in requests:
        started = time.perf_counter()
        response = await client.get(path, params=params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.text[:200])
    return summary_ms(samples)


async def _reads(client: httpx.AsyncClient, rng: random.Random) -> dict[str, Any]:
    def words() -> str:
        return f"{rng.choice(VULNS)} {rng.choice(PLACES).split()[0]}"

    await _timed(client, [("/api/cases", {})] * 20)  # warm the caches and the pool
    return {
        "case_list_page": await _timed(
            client, [("/api/cases", {"page": rng.randint(1, 50)}) for _ in range(SAMPLES)]
        ),
        "case_list_filtered": await _timed(
            client,
            [
                (
                    "/api/cases",
                    {
                        "state": "remediating",
                        "rating": rng.choice(["critical", "low"]),
                        "service": rng.choice(SERVICES),
                    },
                )
                for _ in range(SAMPLES)
            ],
        ),
        "case_list_overdue_by_due": await _timed(
            client, [("/api/cases", {"overdue": "true", "sort": "due"})] * SAMPLES
        ),
        "case_search": await _timed(
            client, [("/api/cases", {"q": words()}) for _ in range(SAMPLES)]
        ),
        "report_list_page": await _timed(
            client, [("/api/reports", {"page": rng.randint(1, 100)}) for _ in range(SAMPLES)]
        ),
        "report_search": await _timed(
            client, [("/api/reports", {"q": words()}) for _ in range(SAMPLES)]
        ),
        "report_search_by_tracking_id": await _timed(
            client,
            [
                ("/api/reports", {"q": f"VULN-2026-{rng.randint(1, REPORTS):06d}"})
                for _ in range(SAMPLES)
            ],
        ),
    }


async def _duplicates(
    client: httpx.AsyncClient, reporter: str, rng: random.Random
) -> dict[str, float]:
    ids = []
    for _ in range(SAMPLES):
        body = {
            "title": f"{rng.choice(VULNS)} in {rng.choice(PLACES)} exposes {rng.choice(WORDS)}",
            "description": f"The {rng.choice(WORDS)} {rng.choice(WORDS)} is not checked.",
            "service": rng.choice(SERVICES),
            "endpoint": f"POST /api/v1/{rng.choice(WORDS)}/{{id}}",
        }
        made = await client.post(
            "/api/reports", json=body, headers={"Authorization": f"Bearer {reporter}"}
        )
        ids.append(made.json()["id"])
    return await _timed(client, [(f"/api/reports/{report_id}/duplicates", {}) for report_id in ids])


def _report_body(rng: random.Random, tag: str) -> dict[str, str]:
    return {
        "title": f"{rng.choice(VULNS)} in {rng.choice(PLACES)} ({tag})",
        "description": "Found while testing; details in the steps.",
        "service": rng.choice(SERVICES),
    }


def _submissions(
    rng: random.Random, tag: str, count: int, tokens: list[str] | None = None
) -> list[list[Any]]:
    """``count`` distinct reports to submit (their titles are unique), round the tokens."""
    return [
        [
            "POST",
            "/api/reports",
            _report_body(rng, f"{tag}-{n}"),
            tokens[n % len(tokens)] if tokens else None,
        ]
        for n in range(count)
    ]


async def _counted(database: Database, tag: str) -> dict[str, int]:
    """The reports of a run in the database: how many, and how many titles twice or more."""
    async with database.session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT count(*) AS rows, count(DISTINCT title) AS titles "
                    "FROM reports WHERE title LIKE :tag"
                ),
                {"tag": f"%({tag}-%"},
            )
        ).one()
    return {"rows": row.rows, "duplicated": row.rows - row.titles}


async def _submission_run(
    database: Database,
    machine: Machine,
    base: str,
    rng: random.Random,
    *,
    tag: str,
    rate: float,
    seconds: float,
    token: str | None = None,
    researchers: list[str] | None = None,
) -> dict[str, Any]:
    count = int(rate * seconds * 1.5) + 100
    result, accepted = open_loop.offer(
        machine,
        base,
        rate=rate,
        seconds=seconds,
        requests=_submissions(rng, tag, count, researchers),
        token=token,
        collect="tracking_id",
    )
    stored = await _counted(database, tag)
    async with database.session() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM reports WHERE tracking_id = ANY(:ids)"), {"ids": accepted}
        )
    result["accepted"] = len(accepted)
    result["stored"] = stored["rows"]
    result["lost"] = len(accepted) - int(found or 0)
    result["duplicated"] = stored["duplicated"]
    return result


async def main() -> dict[str, Any]:
    rng = random.Random(7)
    with server() as url:
        async with fresh_database(url, pool_size=4) as database:
            tokens, fill_seconds = await fill(database)
            port = open_loop.free_port()
            process = open_loop.start_server(database.conninfo, port)
            base = f"http://127.0.0.1:{port}"
            machine = Machine(psutil.Process(process.pid), open_loop.postmaster(database.conninfo))
            try:
                headers = {"Authorization": f"Bearer {tokens.staff}"}
                async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
                    reads = await _reads(client, rng)
                    duplicates = await _duplicates(client, tokens.partner, rng)
                curve = [
                    await _submission_run(
                        database,
                        machine,
                        base,
                        rng,
                        tag=f"partner-{rate}",
                        rate=rate,
                        seconds=CURVE_SECONDS,
                        token=tokens.partner,
                    )
                    for rate in CURVE_RATES
                ]
                researchers = await _submission_run(
                    database,
                    machine,
                    base,
                    rng,
                    tag="researchers",
                    rate=RESEARCHER_RATE,
                    seconds=RESEARCHER_SECONDS,
                    researchers=tokens.researchers,
                )
                target = await _submission_run(
                    database,
                    machine,
                    base,
                    rng,
                    tag="partner-target",
                    rate=TARGET_RATE,
                    seconds=TARGET_SECONDS,
                    token=tokens.partner,
                )
                case_lists = [
                    open_loop.offer(
                        machine,
                        base,
                        rate=rate,
                        seconds=seconds,
                        requests=[
                            ["GET", f"/api/cases?page={rng.randint(1, 50)}", None, None]
                            for _ in range(int(rate * seconds * 1.5) + 100)
                        ],
                        token=tokens.staff,
                    )[0]
                    for rate, seconds in (
                        *((rate, CASE_LIST_CURVE_SECONDS) for rate in CASE_LIST_CURVE_RATES),
                        (CASE_LIST_RATE, CASE_LIST_SECONDS),
                    )
                ]
                case_list = case_lists[-1]
            finally:
                process.terminate()
                process.wait(timeout=60)
    results = {
        "data": {"reports": REPORTS, "cases": CASES, "load_seconds": round(fill_seconds, 1)},
        "reads": reads,
        "duplicate_candidates": duplicates,
        "submission": {
            "web_processes": usable_cpus(),
            "generator_processes": open_loop.GENERATORS,
            "partner_curve": curve,
            "partner_target": target,
            "researchers_within_quota": {"accounts": RESEARCHERS, **researchers},
        },
        "case_list_open_loop": case_lists,
        "targets": {
            "case list and search p95 < 100 ms (one at a time)": max(
                reads["case_list_page"]["p95_ms"],
                reads["case_search"]["p95_ms"],
                reads["case_list_filtered"]["p95_ms"],
            )
            < 100,
            "duplicate candidates p95 < 50 ms": duplicates["p95_ms"] < 50,
            f"submission offered {TARGET_RATE}/s for {TARGET_SECONDS} s: p95 < 250 ms": target[
                "p95_ms"
            ]
            < 250,
            f"submission offered {TARGET_RATE}/s: every one accepted, none lost, none twice": (
                target["statuses"] == {"201": target["requests"]}
                and target["lost"] == 0
                and target["duplicated"] == 0
                and target["stored"] == target["accepted"]
            ),
            f"case list offered {CASE_LIST_RATE}/s for {CASE_LIST_SECONDS} s: p95 < 100 ms": (
                case_list["p95_ms"] < 100
            ),
        },
    }
    write_results("intake", results)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
