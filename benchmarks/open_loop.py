"""Open-loop runs against ``vulnops serve`` in its own process: start it, offer it load from
the generator's processes (``benchmarks.loadgen``), and account for the CPU the server, the
database and the generator used per request — on two cores that, not any lock, is what bounds
the rate."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psutil
import psycopg

from benchmarks import loadgen
from benchmarks.common import Stopwatch, percentile, summary_ms

SETTLE_SECONDS = 15  # between runs: the queue left behind by a saturated run drains
CONNECTIONS = 256  # the generator's, over all its processes: more than ever in flight
GENERATORS = 2  # generator processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(conninfo: str, port: int) -> subprocess.Popen[bytes]:
    """``vulnops serve`` with its defaults (a web process per CPU, each with its job worker);
    only the access log is off (log level warning), as it was in every run of this benchmark."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VULNOPS_")},
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_LOG_LEVEL": "warning",
        "VULNOPS_DATA_DIR": tempfile.mkdtemp(prefix="vulnops-bench-data-"),
    }
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "vulnops", "serve", "--port", str(port)],
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


def cpu_seconds(process: psutil.Process) -> float:
    """CPU used by ``process``, its live children and the children it has reaped (PostgreSQL's
    postmaster reaps the backends that closed)."""
    times = process.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
    return total


@dataclass
class Machine:
    """The processes whose CPU a load run accounts for (the generator reports its own)."""

    server: psutil.Process
    database: psutil.Process | None

    def cpu(self) -> tuple[float, float | None]:
        return cpu_seconds(self.server), (
            cpu_seconds(self.database) if self.database is not None else None
        )


def postmaster(conninfo: str) -> psutil.Process | None:
    """The database server's main process, when it runs on this machine."""
    with psycopg.connect(conninfo) as conn:  # asked while this backend is alive
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        try:
            backend = psutil.Process(row[0]) if row else None
            if backend is None or not backend.name().startswith("postgres"):
                return None
            return backend.parent()
        except psutil.NoSuchProcess:  # a server elsewhere: its pid means nothing here
            return None


def offer(
    machine: Machine,
    base: str,
    *,
    rate: float,
    seconds: float,
    requests: list[list[Any]],
    token: str | None = None,
    collect: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """An open-loop run; its latencies, statuses and the CPU the server, the database and the
    generator used per request."""
    server_before, database_before = machine.cpu()
    load_before = os.getloadavg()[0]
    clock = Stopwatch()
    run = loadgen.offer(
        {
            "base_url": base,
            "token": token,
            "rate": rate,
            "seconds": seconds,
            "connections": CONNECTIONS,
            "requests": requests,
            "collect": collect,
        },
        processes=GENERATORS,
    )
    wall = clock.seconds
    server_after, database_after = machine.cpu()
    time.sleep(SETTLE_SECONDS)
    answered = len(run["latencies"])
    assert not run["ran_out_of_requests"], "the plan had too few requests"

    def per_request(used: float) -> float:
        return round(used / answered * 1000, 2)

    result = {
        "offered_per_second": rate,
        "seconds": seconds,
        "requests": answered,
        "statuses": run["statuses"],
        **summary_ms(run["latencies"]),
        "p99_ms": round(percentile(run["latencies"], 0.99) * 1000, 2),
        "generator_lag_p95_ms": round(percentile(run["lags"], 0.95) * 1000, 2),
        "all_answered_after_s": round(wall, 1),
        "cpu_ms_per_request": {
            "server": per_request(server_after - server_before),
            "database": per_request(database_after - database_before)
            if database_after is not None and database_before is not None
            else None,
            "generator": per_request(run["cpu_seconds"]),
        },
        "load_average_before": round(load_before, 2),
    }
    return result, run["accepted"]
