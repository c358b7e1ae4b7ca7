"""The command line's wall time as a user sees it (a new process each time): ``vulnops --help``
(target under 0.3 s) and ``vulnops case list`` against 20,000 cases (target under 1 s)."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from sqlalchemy import text

from benchmarks.common import fresh_database, server, write_results

CASES = 20_000
RUNS = 10


def _wall(args: list[str], env: dict[str, str]) -> dict[str, float]:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "vulnops", *args], env=env, capture_output=True, check=False
        )
        samples.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
    return {
        "median_s": round(statistics.median(samples), 3),
        "max_s": round(max(samples), 3),
    }


async def main() -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VULNOPS_")}
    with server() as url, tempfile.TemporaryDirectory() as data:
        async with fresh_database(url) as database:
            async with database.session() as session:
                await session.execute(
                    text(
                        "INSERT INTO cases (title, started_at, breaches_recorded) "
                        "SELECT 'Benchmark case ' || g, now(), '{}' "
                        "FROM generate_series(1, :n) AS g"
                    ),
                    {"n": CASES},
                )
                await session.commit()
            env = {**base, "VULNOPS_DATABASE_URL": database.conninfo, "VULNOPS_DATA_DIR": data}
            results = {
                "help": {**_wall(["--help"], env), "target_s": 0.3},
                "case_list_of_20k": {**_wall(["case", "list"], env), "target_s": 1.0},
            }
    write_results("cli", results)
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
