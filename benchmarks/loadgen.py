"""An open-loop HTTP load generator that runs in processes of its own, so that the server under
test does not share an interpreter (or a GIL) with its clients.

Open loop: requests are due at Poisson arrival times whatever the server does, and a request's
latency counts from when it was due, so a queue in front of a slow server (in the client's
connection pool or in the server's backlog) is measured rather than hidden. Each of ``processes``
processes sends every ``processes``-th request of the plan at ``rate / processes`` a second.

A plan names the server, the rate, the duration, the connections and the requests, each
``[method, path, body or null, token or null]`` (``token``: a bearer token, else the plan's).
Every body is encoded and the connections are opened before the clock starts, and the client is
aiohttp on uvloop: a Python client costs CPU that the server, on the same machine, then lacks
(each process reports what it used, and how late it sent: when that lag grows, the generator and
not the server is the limit).
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import uvloop


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def _run(plan: dict[str, Any], index: int, processes: int) -> dict[str, Any]:
    rate = plan["rate"] / processes
    seconds = float(plan["seconds"])
    prepared = [
        (
            method,
            path,
            None if body is None else json.dumps(body).encode(),
            _headers(token or plan.get("token")),
        )
        for method, path, body, token in plan["requests"][index::processes]
    ]
    # uvicorn closes a connection idle for 5 s; dropping it after 4 s here means no request is
    # ever sent on a connection the server is closing (that failed once in 1,400 requests).
    connector = aiohttp.TCPConnector(
        limit=max(1, plan["connections"] // processes), keepalive_timeout=4
    )
    latencies: list[float] = []
    lags: list[float] = []
    statuses: Counter[str] = Counter()
    accepted: list[str] = []
    collect = plan.get("collect")
    async with aiohttp.ClientSession(
        base_url=plan["base_url"], connector=connector, timeout=aiohttp.ClientTimeout(total=300)
    ) as client:

        async def warm() -> None:
            async with client.get("/healthz") as response:
                await response.read()

        await asyncio.gather(*(warm() for _ in range(connector.limit)))

        async def one(
            due: float, method: str, path: str, body: bytes | None, headers: dict[str, str]
        ) -> None:
            lags.append(time.perf_counter() - due)
            try:
                async with client.request(method, path, data=body, headers=headers) as response:
                    payload = await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as error:
                status, payload = type(error).__name__, b""
            latencies.append(time.perf_counter() - due)
            statuses[status] += 1
            if collect and status == "201":
                accepted.append(json.loads(payload)[collect])

        rng = random.Random(plan.get("seed", 1) * 1000 + index)
        tasks = []
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        due = start + rng.expovariate(rate)
        for method, path, body, headers in prepared:
            if due >= start + seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due, method, path, body, headers)))
            due += rng.expovariate(rate)
        await asyncio.gather(*tasks)
        used = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies": latencies,
        "lags": lags,
        "statuses": dict(statuses),
        "accepted": accepted,
        "ran_out_of_requests": len(tasks) == len(prepared),
        "cpu_seconds": used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime,
    }


def offer(plan: dict[str, Any], *, processes: int) -> dict[str, Any]:
    """Run ``plan`` from ``processes`` generator processes at once; their results together."""
    with tempfile.TemporaryDirectory(prefix="vulnops-loadgen-") as directory:
        path = Path(directory) / "plan.json"
        path.write_text(json.dumps(plan))
        runs = [
            subprocess.Popen(  # noqa: S603 - this module, with our own plan
                [sys.executable, "-m", "benchmarks.loadgen", str(path), str(n), str(processes)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(processes)
        ]
        outputs = [json.loads(run.communicate()[0]) for run in runs]
    statuses: Counter[str] = Counter()
    for output in outputs:
        statuses.update(output["statuses"])
    return {
        "latencies": [x for output in outputs for x in output["latencies"]],
        "lags": [x for output in outputs for x in output["lags"]],
        "statuses": dict(statuses),
        "accepted": [x for output in outputs for x in output["accepted"]],
        "ran_out_of_requests": any(output["ran_out_of_requests"] for output in outputs),
        "cpu_seconds": sum(output["cpu_seconds"] for output in outputs),
    }


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    index, processes = int(sys.argv[2]), int(sys.argv[3])
    json.dump(uvloop.run(_run(plan, index, processes)), sys.stdout)


if __name__ == "__main__":
    main()
