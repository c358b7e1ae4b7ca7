"""What every benchmark needs: a fresh migrated database, timing, and a place for results."""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.db import embedded, migrate
from vulnops.db.database import Database

RESULTS = Path(__file__).parent / "results"


@contextmanager
def server() -> Iterator[str]:
    """``VULNOPS_BENCH_DATABASE_URL``'s server, else an embedded one in a temporary directory."""
    configured = os.environ.get("VULNOPS_BENCH_DATABASE_URL")
    if configured:
        yield configured
        return
    root = Path(tempfile.mkdtemp(prefix="vulnops-bench-"))
    yield embedded.start_server(root / "pg", delete_on_exit=True)


@asynccontextmanager
async def fresh_database(server_url: str, *, pool_size: int = 10) -> AsyncIterator[Database]:
    name = f"vulnops_bench_{secrets.token_hex(3)}"
    url = embedded.ensure_database(server_url, name)
    migrate.upgrade(url)
    database = Database(url, pool_size=pool_size)
    try:
        yield database
    finally:
        await database.dispose()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


async def api_token(session: AsyncSession, user_id: int) -> str:
    """A day's API token of the user (the benchmarks call the app as its users do)."""
    _, secret = await users.create_token(
        session,
        user_id=user_id,
        name="bench",
        expires_in_days=1,
        max_days=1,
        actor="bench",
        now=datetime.now(UTC),
    )
    return secret


async def responder_token(session: AsyncSession) -> str:
    """A responder of the benchmark's database, and an API token of theirs."""
    user = await users.create_user(
        session,
        email="bench@example.com",
        password="a long bench password 42",  # noqa: S106 - a throwaway database
        role=Role.RESPONDER,
        actor="bench",
    )
    return await api_token(session, user.id)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary_ms(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(percentile(samples, 0.95) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def write_results(name: str, results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "database": "VULNOPS_BENCH_DATABASE_URL"
            if os.environ.get("VULNOPS_BENCH_DATABASE_URL")
            else "embedded PostgreSQL",
        },
        "results": results,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
