"""``vulnops serve`` on every core: one web process per CPU by default, their connection pools
within the database's connections, one session key for all of them, and the embedded
PostgreSQL and the demo mail catcher shared by several web processes."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from helpers import bearer, free_port, vulnops
from vulnops.cli.serve import pool_size_within
from vulnops.settings import Settings, usable_cpus


def test_web_processes_default_to_the_cpus_this_process_may_use(tmp_path: Path) -> None:
    assert usable_cpus() == len(os.sched_getaffinity(0))
    assert Settings(data_dir=tmp_path).web_workers == usable_cpus()
    assert Settings(data_dir=tmp_path, web_workers=3).web_workers == 3


@pytest.mark.parametrize(
    ("connections", "processes", "expected"),
    [
        (72, 2, 10),  # 2 x (10 + 10 in a burst + 4 for the job worker) = 48: as configured
        (72, 8, 2),  # 72 // 8 = 9 each: 4 for the job worker, 2 + 2 for the pool
        (72, 64, 1),  # never below one
    ],
)
def test_the_pools_of_all_web_processes_fit_the_database(
    connections: int, processes: int, expected: int
) -> None:
    size = pool_size_within(
        connections=connections, processes=processes, pool_size=10, worker_connections=4
    )
    assert size == expected


def test_web_processes_starting_together_share_one_session_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    keys: list[str] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        keys.append(settings.session_secret())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) > 40
    assert [path.name for path in (tmp_path / "data").iterdir()] == ["secret_key"]
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600


CATCHER_ELSEWHERE = "the demo mail catcher is not started here"


def _web_processes(serve: subprocess.Popen[str]) -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process(serve.pid).children()
        if "spawn_main" in " ".join(child.cmdline())
    ]


@pytest.mark.slow
def test_two_web_processes_share_the_embedded_database_and_the_demo_mail_catcher(
    tmp_path: Path,
) -> None:
    port, smtp_port = free_port(), free_port()
    env = {
        "VULNOPS_DATA_DIR": str(tmp_path),
        "VULNOPS_DEMO_INBOX": "true",
        "VULNOPS_DEMO_SMTP_PORT": str(smtp_port),
        "VULNOPS_LOG_LEVEL": "warning",
    }
    upgraded = vulnops("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    made = vulnops("user", "create", "partner@example.com", "--role", "partner", env=env)
    assert made.returncode == 0, made.stderr
    token = vulnops("token", "create", "partner@example.com", "--name", "test", env=env)
    secret = token.stdout.strip().splitlines()[-1]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("VULNOPS_")}
    serve = subprocess.Popen(
        [sys.executable, "-m", "vulnops", "serve", "--workers", "2", "--port", str(port)],
        env={**inherited, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(serve.stderr or ()), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        # Both web processes are up once the second says it has no mail catcher.
        deadline = time.monotonic() + 120
        while not any(CATCHER_ELSEWHERE in line for line in errors):
            assert serve.poll() is None, errors
            assert time.monotonic() < deadline, f"the server did not start: {errors}"
            time.sleep(0.5)
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        assert len(_web_processes(serve)) == 2
        with httpx.Client(base_url=base, headers=bearer(secret)) as client:
            for n in range(10):
                report = {"title": f"IDOR in invoices ({n})", "description": "Any id."}
                assert client.post("/api/reports", json=report).status_code == 201
            assert client.get("/api/reports").json()["total"] == 10
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            assert smtp.noop()[0] == 250
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        reader.join(timeout=10)
    assert serve.returncode == 0, errors
    assert "2 web processes" in (serve.stdout.read() if serve.stdout else "")
    # One web process took the catcher's port; the other said why it has none.
    assert sum(CATCHER_ELSEWHERE in line for line in errors) == 1, errors
    # The last process to leave stopped the embedded server.
    assert not (tmp_path / "postgres" / "postmaster.pid").exists()
