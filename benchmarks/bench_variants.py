"""Variant hunts and classes at scale, on the same 2-core machine as the database:

- a code hunt over 20 repositories of 2,000 Python files each (40,000 files, a vulnerable fetch
  in one file of 250), against Semgrep's own run over the same files (one process, ``-j`` the
  machine's cores): the orchestration's overhead is their ratio (target within 1.5x), and both
  must find the same matches;
- a component hunt's query over 1,000 SBOMs (the fleet benchmark's history: the real CycloneDX
  samples and a moving log4j-core; target < 100 ms);
- the classes page (the top weaknesses, with its plot) at 20,000 cases, through the app as a
  signed-in responder sees it (target < 200 ms).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.bench_fleet import load_history
from benchmarks.common import (
    Stopwatch,
    fresh_database,
    responder_token,
    server,
    summary_ms,
    write_results,
)
from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.fleet import generator, importer, repositories
from vulnops.settings import Settings
from vulnops.variants import hunts, running, semgrep
from vulnops.variants.models import Hunt
from vulnops.variants.schemas import HuntIn
from vulnops.web.app import create_app

REPOSITORIES, FILES, EVERY = 20, 2_000, 250
RUNS = 2  # each way, alternating; the median is reported
SAMPLES = 50
CASES = 20_000
RULE = """\
rules:
- id: ssrf-user-url
  languages: [python]
  severity: ERROR
  message: fetches a URL the caller chose
  pattern-either:
  - pattern: requests.$M($B["url"], ...)
  - pattern: requests.$M($B.get("url"), ...)
"""
CLEAN = """import requests

CONFIG = {{"endpoint": "https://internal.example/{n}"}}


def handler_{n}(body, session):
    data = session.get(CONFIG["endpoint"])
    total = 0
    for item in body.get("items", []):
        total += len(str(item))
    if total > {n}:
        return {{"ok": False, "size": total}}
    return {{"ok": True, "data": data, "n": {n}}}


class Worker{n}:
    def __init__(self, limit):
        self.limit = limit

    def run(self, rows):
        return [row for row in rows if len(row) < self.limit]
"""
VULNERABLE = """import requests


def fetch_{n}(body):
    return requests.get(body["url"], timeout=5)
"""


def _write_repositories(root: Path) -> list[Path]:
    made = []
    for r in range(REPOSITORIES):
        repository = root / f"repo{r:02d}"
        for f in range(FILES):
            path = repository / f"pkg{f // 100}" / f"mod{f}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text((VULNERABLE if f % EVERY == 7 else CLEAN).format(n=f))
        made.append(repository)
    return made


async def _semgrep_alone(
    settings: Settings, places: list[Path], scratch: Path
) -> tuple[float, int]:
    rule = scratch / "rule.yaml"
    rule.write_text(RULE)
    watch = Stopwatch()
    process = await asyncio.create_subprocess_exec(
        semgrep.command(settings),
        "scan",
        "--config",
        str(rule),
        "--sarif",
        "-j",
        str(os.cpu_count() or 1),
        "--metrics=off",
        "--disable-version-check",
        "--quiet",
        *map(str, places),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    seconds = watch.seconds
    return seconds, len(json.loads(out)["runs"][0]["results"])


async def _hunt(database: Database, settings: Settings, case_id: int) -> tuple[float, int]:
    watch = Stopwatch()
    async with database.session() as session:
        hunt = await hunts.start(
            session,
            case_id=case_id,
            given=HuntIn(strategy="code", rule=RULE),
            actor="bench",
            settings=settings,
        )
        await session.commit()
    assert await running.run(database, hunt_id=hunt.id, settings=settings) == "finished"
    seconds = watch.seconds
    async with database.session() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM hunt_findings WHERE hunt_id = :h"), {"h": hunt.id}
        )
    return seconds, int(found or 0)


async def _code_hunt(database: Database, settings: Settings) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vulnops-variants-") as folder:
        scratch = Path(folder)
        watch = Stopwatch()
        places = _write_repositories(scratch / "repos")
        written = watch.seconds
        async with database.session() as session:
            keys = list(await session.scalars(text("SELECT key FROM services ORDER BY key")))
            for index, key in enumerate(keys):
                share = [str(p) for p in places[index :: len(keys)]]
                await repositories.replace(session, service_key=key, locations=share, actor="bench")
            case = await cases.open_case(
                session,
                title="SSRF",
                summary="",
                services=[],
                actor="bench",
                settings=settings,
                cwe_id=918,
                now=datetime.now(UTC),
            )
            await session.commit()
        alone: list[float] = []
        ours: list[float] = []
        counts = set()
        for _ in range(RUNS):
            seconds, found = await _semgrep_alone(settings, places, scratch)
            alone.append(seconds)
            counts.add(("semgrep", found))
            seconds, found = await _hunt(database, settings, case.id)
            ours.append(seconds)
            counts.add(("hunt", found))
    expected = REPOSITORIES * len(range(7, FILES, EVERY))
    assert counts == {("semgrep", expected), ("hunt", expected)}, counts
    return {
        "repositories": REPOSITORIES,
        "files": REPOSITORIES * FILES,
        "matches": expected,
        "files_written_s": round(written, 1),
        "semgrep_alone_s": round(statistics.median(alone), 1),
        "hunt_s": round(statistics.median(ours), 1),
        "overhead_ratio": round(statistics.median(ours) / statistics.median(alone), 2),
        "processes_at_once": settings.hunt_parallel,
    }


async def _component_hunt(database: Database) -> dict[str, Any]:
    loaded = await load_history(database)
    async with database.session() as session:
        hunt = Hunt(
            case_id=1,
            strategy="components",
            created_by="bench",
            params={
                "purl": "pkg:maven/org.apache.logging.log4j/log4j-core",
                "range": "vers:maven/>=2.0.0|<2.17.1",
            },
        )
        samples, found = [], 0
        for _ in range(SAMPLES):
            watch = Stopwatch()
            found = len(await running.query_rows(session, hunt=hunt))
            samples.append(watch.seconds)
    return {**loaded, "service_versions_found": found, **summary_ms(samples)}


CASE_ROWS = """
INSERT INTO cases (title, state, services, cwe_id, started_at, opened_at, mitigated_at,
                   restricted)
SELECT 'Case ' || n,
       CASE WHEN n % 10 < 7 THEN 'mitigated' ELSE 'remediating' END,
       ARRAY[(ARRAY['storage', 'compute', 'identity', 'database', 'networking'])[1 + n % 5]],
       (ARRAY[79, 89, 918, 22, 639, 502, 611, 352, 287, 862, 200, 400, 770, 94, 78, 20,
              434, 601, 1021, 306])[1 + (n * 7) % 20],
       now() - ((n % 700) || ' days')::interval,
       now() - ((n % 700) || ' days')::interval,
       CASE WHEN n % 10 < 7 THEN now() - ((n % 700) || ' days')::interval
            + ((1 + n % 40) || ' days')::interval END,
       n % 50 = 0
FROM generate_series(1, :cases) AS n
"""


async def _classes_page(database: Database, settings: Settings) -> dict[str, Any]:
    async with database.session() as session:
        await session.execute(text(CASE_ROWS), {"cases": CASES})
        await session.execute(text("ANALYZE cases"))
        token = await responder_token(session)
        await session.commit()
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    samples: dict[str, list[float]] = {"cases": [], "time": [], "recurrence": []}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": f"Bearer {token}"}
        for number in range(SAMPLES * 3):
            order = ("cases", "time", "recurrence")[number % 3]
            watch = Stopwatch()
            page = await client.get(f"/classes?order={order}", headers=headers)
            samples[order].append(watch.seconds)
            assert page.status_code == 200, page.text[:300]
            assert "<svg" in page.text
    return {"cases": CASES, **{order: summary_ms(s) for order, s in samples.items()}}


async def main() -> dict[str, Any]:
    with server() as url, tempfile.TemporaryDirectory(prefix="vulnops-data-") as data:
        async with fresh_database(url) as database:
            settings = Settings(database_url=database.conninfo, data_dir=Path(data))
            async with database.session() as session:
                topology = generator.topology(7, "large")
                await importer.import_bundle(
                    session,
                    actor="bench",
                    topology=(json.dumps(topology), "topology"),
                    sboms=[
                        importer.SbomIn(service=s, version=v, text=json.dumps(d), source=s)
                        for s, v, d in generator.sboms(7, "large")
                    ],
                )
                await session.commit()
            code = await _code_hunt(database, settings)
            components = await _component_hunt(database)
            page = await _classes_page(database, settings)
    results = {"code_hunt": code, "component_hunt_1000_sboms": components, "classes_page": page}
    write_results("variants", results)
    return results
