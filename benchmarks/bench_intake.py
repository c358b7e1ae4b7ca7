"""Intake and triage at scale: 100k reports and 20k cases, measured through the HTTP API of a
real server (uvicorn in its own process) on the same 2-core machine as the database.

- case list and search, report list and search: p50/p95 over many requests;
- duplicate candidates for a new report;
- report submission from 50 concurrent clients (closed loop: each sends its next report as soon
  as the previous one is answered).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, summary_ms, write_results
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.db.database import Database

REPORTS = 100_000
CASES = 20_000
SAMPLES = 300
CLIENTS = 50
SUBMISSIONS = 3_000
WEB_WORKERS = 2
OFFERED_RATES = (50, 100, 200)  # submissions per second, from the 50 clients together
OPEN_LOOP_SECONDS = 20

VULNS = """SSRF|stored XSS|reflected XSS|DOM XSS|IDOR|SQL injection|NoSQL injection|open redirect|
CSRF|path traversal|privilege escalation|token leakage|request smuggling|cache poisoning|
insecure deserialization|XXE|race condition|denial of service|missing authorization|
broken access control|clickjacking|subdomain takeover|session fixation|JWT signature bypass|
prototype pollution|template injection|command injection|LDAP injection|header injection|
CORS misconfiguration|credential stuffing|account takeover|information leak|timing side channel|
weak randomness|mass assignment|rate limit bypass|unsafe redirect|tenant isolation bypass|
signature bypass""".replace("\n", "").split("|")
PLACES = """image import|backup policy|support ticket|billing export|role import|webhook redelivery|
snapshot sharing|metric tags|API key rotation|sign-out|invoice download|audit log export|
password reset|DNS zone editor|queue admin|object versioning|bucket lifecycle|VM console|
serial port access|disk encryption|key vault rotation|load balancer rules|firewall editor|
VPN gateway|peering setup|container registry|build pipeline|function triggers|log search|
alert rules|dashboard sharing|team invitations|SSO configuration|SCIM provisioning|
MFA enrolment|recovery codes|billing alerts|usage reports|quota requests|marketplace listing|
partner portal|support chat|status page|docs search|CLI login|device code flow|OAuth consent|
service accounts|workload identity|secret manager|certificate issuance|domain verification|
email relay|SMS gateway|notification hub|event grid|stream processing|data export|
database restore|read replicas|schema migration|cluster autoscaler|node pools|
ingress controller|service mesh|edge cache|image optimizer|video transcoder|search index|
AI inference|model registry|notebook sharing|feature flags|config store|job scheduler|
batch uploads|file preview|thumbnail service|audit trail|admin impersonation""".replace(
    "\n", ""
).split("|")
SERVICES = [
    "storage",
    "compute",
    "identity",
    "billing",
    "networking",
    "database",
    "monitoring",
    "portal",
    "api-gateway",
    "backup",
    "events",
    "dns",
    "queues",
    "kubernetes",
    "cdn",
]
WORDS = [
    "tenant",
    "attacker",
    "request",
    "response",
    "header",
    "token",
    "session",
    "cookie",
    "endpoint",
    "parameter",
    "bucket",
    "policy",
    "credential",
    "metadata",
    "internal",
    "service",
    "worker",
    "admin",
    "console",
    "upload",
    "download",
    "id",
    "signature",
    "cache",
    "redirect",
    "query",
    "filter",
    "export",
    "import",
    "role",
    "scope",
    "organisation",
    "project",
    "customer",
    "secret",
    "password",
    "key",
    "certificate",
    "domain",
    "email",
    "phone",
    "invoice",
    "payment",
    "card",
    "user",
    "group",
    "permission",
    "grant",
    "invite",
    "approval",
    "webhook",
    "callback",
    "payload",
    "archive",
    "manifest",
    "image",
    "volume",
    "snapshot",
    "region",
    "zone",
    "cluster",
    "node",
    "pod",
    "namespace",
    "queue",
    "topic",
    "subscription",
    "record",
]


def _pick(array: str, salt: str) -> str:
    """A deterministic pseudo-random element of ``array`` for row ``n`` (no periodic repeats)."""
    return f"v.{array}[1 + abs(hashtext(n || '{salt}')) % array_length(v.{array}, 1)]"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


FILL = f"""
INSERT INTO cases (tracking_id, title, summary, state, services, rating, started_at, opened_at,
                   acknowledge_due, triage_due, mitigate_due, acknowledged_at, breaches_recorded)
SELECT 'CASE-2026-' || lpad(n::text, 6, '0'),
       {_pick("vulns", "v")} || ' in ' || {_pick("places", "p")},
       'Case ' || n,
       (ARRAY['new','triaging','remediating','deploying','mitigated','closed'])[1 + n % 6],
       ARRAY[{_pick("services", "s")}],
       (ARRAY['critical','important','moderate','low'])[1 + n % 4],
       now() - (n % 400) * interval '1 hour', now() - (n % 400) * interval '1 hour',
       now() - (n % 400) * interval '1 hour' + interval '4 hours',
       now() - (n % 400) * interval '1 hour' + interval '24 hours',
       now() - (n % 400) * interval '1 hour' + interval '7 days',
       CASE WHEN n % 3 = 0 THEN NULL ELSE now() - (n % 400) * interval '1 hour' END, '{{}}'
FROM generate_series(1, {CASES}) AS n,
     (SELECT {_array(VULNS)} AS vulns, {_array(PLACES)} AS places,
             {_array(SERVICES)} AS services) AS v;
SELECT setval('case_tracking_seq', {CASES});

INSERT INTO reports (tracking_id, source, state, close_reason, title, description, service,
                     endpoint, reproduction, impact, reporter_id, received_at, case_id)
SELECT 'VULN-2026-' || lpad(n::text, 6, '0'), 'researcher',
       CASE WHEN n % 5 = 0 THEN 'closed' ELSE (ARRAY['new','needs_info','triaged'])[1 + n % 3] END,
       CASE WHEN n % 5 = 0 THEN 'duplicate' END,
       {_pick("vulns", "v")} || ' in ' || {_pick("places", "p")} || ' exposes ' ||
           {_pick("words", "a")} || ' ' || {_pick("words", "b")},
       'The ' || {_pick("words", "c")} || ' ' || {_pick("words", "d")} ||
           ' is not checked when the ' || {_pick("words", "e")} || ' is ' ||
           {_pick("words", "f")} || '.',
       {_pick("services", "s")},
       'POST /api/v' || (1 + n % 3) || '/' || {_pick("words", "g")} || '/{{id}}',
       '', '', :reporter, now() - (n % 2000) * interval '15 minutes',
       CASE WHEN n % 4 = 0 THEN 1 + n % {CASES} END
FROM generate_series(1, {REPORTS}) AS n,
     (SELECT {_array(VULNS)} AS vulns, {_array(PLACES)} AS places,
             {_array(SERVICES)} AS services, {_array(WORDS)} AS words) AS v;
SELECT setval('report_tracking_seq', {REPORTS});
ANALYZE cases; ANALYZE reports;
"""  # noqa: S608 - our own constants


async def _fill(database: Database) -> tuple[str, float]:
    """Load the data set; return a bearer token for a responder and the seconds it took."""
    clock = Stopwatch()
    async with database.session() as session:
        researcher = await users.create_user(
            session,
            email="bench-researcher@example.com",
            password="bench password 1",  # noqa: S106
            role=Role.RESEARCHER,
            actor="bench",
        )
        responder = await users.create_user(
            session,
            email="bench-responder@example.com",
            password="bench password 2",  # noqa: S106
            role=Role.RESPONDER,
            actor="bench",
        )
        await session.flush()
        for statement in FILL.split(";\n"):
            if statement.strip():
                await session.execute(text(statement), {"reporter": researcher.id})
        _, staff_token = await users.create_token(
            session,
            user_id=responder.id,
            name="bench",
            expires_in_days=1,
            actor="bench",
            now=datetime.now(UTC),
        )
        _, researcher_token = await users.create_token(
            session,
            user_id=researcher.id,
            name="bench",
            expires_in_days=1,
            actor="bench",
            now=datetime.now(UTC),
        )
        await session.commit()
    _fill.researcher_token = researcher_token  # type: ignore[attr-defined]
    return staff_token, clock.seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(conninfo: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_LOG_LEVEL": "warning",
        "VULNOPS_DB_POOL_SIZE": "20",
        "VULNOPS_DATA_DIR": tempfile.mkdtemp(prefix="vulnops-bench-data-"),
    }
    process = subprocess.Popen(  # noqa: S603 - our own command
        [
            sys.executable,
            "-m",
            "vulnops",
            "serve",
            "--no-worker",
            "--workers",
            str(WEB_WORKERS),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the benchmark server did not start")


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
    client: httpx.AsyncClient, researcher: str, rng: random.Random
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
            "/api/reports", json=body, headers={"Authorization": f"Bearer {researcher}"}
        )
        ids.append(made.json()["id"])
    return await _timed(client, [(f"/api/reports/{report_id}/duplicates", {}) for report_id in ids])


def _report_body(rng: random.Random, tag: str) -> dict[str, str]:
    return {
        "title": f"{rng.choice(VULNS)} in {rng.choice(PLACES)} ({tag})",
        "description": "Found while testing; details in the steps.",
        "service": rng.choice(SERVICES),
    }


async def _submit(client: httpx.AsyncClient, body: dict[str, str]) -> bool:
    """One submission; a refused or broken one counts as a failure (it does not stop the run)."""
    try:
        response = await client.post("/api/reports", json=body)
    except httpx.TransportError:
        return False
    return response.status_code == 201


async def _closed_loop(base: str, researcher: str, rng: random.Random) -> dict[str, Any]:
    """50 clients, each sending its next report as soon as the last is answered: saturation."""
    latencies: list[float] = []
    failures = 0
    per_client = SUBMISSIONS // CLIENTS
    headers = {"Authorization": f"Bearer {researcher}"}
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, limits=limits
    ) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in range(CLIENTS)))

        async def client_loop(number: int) -> None:
            nonlocal failures
            for step in range(per_client):
                started = time.perf_counter()
                failures += not await _submit(client, _report_body(rng, f"{number}-{step}"))
                latencies.append(time.perf_counter() - started)

        clock = Stopwatch()
        await asyncio.gather(*(client_loop(n) for n in range(CLIENTS)))
        seconds = clock.seconds
    return {
        "clients": CLIENTS,
        "submissions": len(latencies),
        "failures": failures,
        "per_second": round(len(latencies) / seconds, 1),
        **summary_ms(latencies),
    }


async def _open_loop(base: str, researcher: str, rng: random.Random, rate: float) -> dict[str, Any]:
    """50 clients submitting at ``rate`` per second together (Poisson arrivals); latency is
    measured from when a report was due to be sent, so a queue behind a slow answer counts.
    The 50 connections are opened before the clock starts (building an HTTP client costs tens
    of milliseconds of CPU, which would otherwise be charged to the first requests)."""
    latencies: list[float] = []
    failures = 0
    per_client = rate / CLIENTS
    headers = {"Authorization": f"Bearer {researcher}"}
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, limits=limits
    ) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in range(CLIENTS)))
        start = time.perf_counter()

        async def client_loop(number: int) -> None:
            nonlocal failures
            client_rng = random.Random(rng.random())
            due = start + client_rng.expovariate(per_client)
            step = 0
            while due < start + OPEN_LOOP_SECONDS:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                body = _report_body(client_rng, f"open-{number}-{step}")
                failures += not await _submit(client, body)
                latencies.append(time.perf_counter() - due)
                due += client_rng.expovariate(per_client)
                step += 1

        await asyncio.gather(*(client_loop(n) for n in range(CLIENTS)))
    return {
        "offered_per_second": rate,
        "submissions": len(latencies),
        "failures": failures,
        **summary_ms(latencies),
    }


async def main() -> dict[str, Any]:
    rng = random.Random(7)
    with server() as url:
        async with fresh_database(url, pool_size=4) as database:
            staff_token, fill_seconds = await _fill(database)
            researcher_token = _fill.researcher_token  # type: ignore[attr-defined]
            port = _free_port()
            process = _start_server(database.conninfo, port)
            base = f"http://127.0.0.1:{port}"
            try:
                headers = {"Authorization": f"Bearer {staff_token}"}
                async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
                    reads = await _reads(client, rng)
                    duplicates = await _duplicates(client, researcher_token, rng)
                saturation = await _closed_loop(base, researcher_token, rng)
                offered = [
                    await _open_loop(base, researcher_token, rng, rate) for rate in OFFERED_RATES
                ]
            finally:
                process.terminate()
                process.wait(timeout=60)
    results = {
        "data": {"reports": REPORTS, "cases": CASES, "load_seconds": round(fill_seconds, 1)},
        "reads": reads,
        "duplicate_candidates": duplicates,
        "submission": {
            "web_workers": WEB_WORKERS,
            "closed_loop_50_clients": saturation,
            "open_loop_50_clients": offered,
        },
        "targets": {
            "case list and search p95 < 100 ms": max(
                reads["case_list_page"]["p95_ms"],
                reads["case_search"]["p95_ms"],
                reads["case_list_filtered"]["p95_ms"],
            )
            < 100,
            "duplicate candidates p95 < 50 ms": duplicates["p95_ms"] < 50,
            "submission p95 < 50 ms at 50 clients (closed loop)": saturation["p95_ms"] < 50,
            "submission p95 < 50 ms at 50 clients (open loop, each rate)": {
                str(result["offered_per_second"]): result["p95_ms"] < 50 for result in offered
            },
        },
    }
    write_results("intake", results)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
