"""Real HTTP servers for the backend tests (served by ``helpers.serving``): a deployment webhook
with a status URL, and a Prometheus that answers instant queries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class Deployer:
    """A deployment service: POST /deployments, GET /units/{unit_id}. A unit is ready after
    ``polls`` looks at its status; ``fail_first`` answers the first N deployments with 503."""

    def __init__(self, *, polls: int = 2, fail_first: int = 0, fail_version: str = "") -> None:
        self.app = FastAPI()
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.versions: dict[int, str] = {}
        self.pending: dict[int, tuple[str, int]] = {}
        self.fail_first, self.polls, self.fail_version = fail_first, polls, fail_version

        @self.app.post("/deployments")
        async def deploy(request: Request) -> JSONResponse:
            body = await request.json()
            self.received.append(body)
            self.headers.append(dict(request.headers))
            if self.fail_first > 0:
                self.fail_first -= 1
                return JSONResponse({"error": "try later"}, status_code=503)
            self.pending[body["unit_id"]] = (body["version"], self.polls)
            return JSONResponse({"accepted": True}, status_code=202)

        @self.app.get("/units/{unit_id}")
        async def unit(unit_id: int) -> dict[str, Any]:
            if unit_id in self.pending:
                version, left = self.pending[unit_id]
                if version == self.fail_version:
                    del self.pending[unit_id]
                    return {
                        "version": self.versions.get(unit_id),
                        "state": "failed",
                        "message": "health check failed",
                    }
                if left > 0:
                    self.pending[unit_id] = (version, left - 1)
                    return {"version": self.versions.get(unit_id), "state": "in_progress"}
                del self.pending[unit_id]
                self.versions[unit_id] = version
            return {"version": self.versions.get(unit_id), "state": "succeeded"}


class Prometheus:
    """Answers /api/v1/query with a vector per unit, from ``values[metric][unit]``; or fails."""

    def __init__(self, values: dict[str, dict[str, float]], *, down: bool = False) -> None:
        self.app = FastAPI()
        self.queries: list[dict[str, str]] = []
        self.values, self.down = values, down

        @self.app.post("/api/v1/query")
        async def query(request: Request) -> JSONResponse:
            form = dict(await request.form())
            self.queries.append({k: str(v) for k, v in form.items()})
            if self.down:
                return JSONResponse({"status": "error", "error": "overloaded"}, status_code=503)
            metric = _metric(str(form["query"]))
            result = [
                {"metric": {"unit": unit}, "value": [float(form["time"]), str(value)]}
                for unit, value in self.values.get(metric, {}).items()
            ]
            return JSONResponse(
                {"status": "success", "data": {"resultType": "vector", "result": result}}
            )


def _metric(query: str) -> str:
    """Which of the default queries (settings.DEFAULT_PROMETHEUS_QUERIES) this is."""
    if "duration" in query:
        return "latency_ms"
    if "crashes" in query:
        return "crashes"
    if 'code=~"5' in query:
        return "errors"
    return "requests"
