"""A local server answering the CVE Services endpoints cvelib calls (the real service is not
reachable here), told per test what to answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

ORG = "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"


@dataclass
class CveServicesDouble:
    """POST /api/cve-id and POST /api/cve/{id}/cna, as CVE Services answers them."""

    fail_publish: bool = False
    # What the next reservations answer instead of a fresh id (a JSON body, or a response).
    reserve_answers: list[Any] = field(default_factory=list)
    reserve_delay_seconds: float = 0
    reservations: list[dict[str, Any]] = field(default_factory=list)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/cve-id", response_model=None)
        async def reserve(request: Request) -> dict[str, Any] | Response:
            self.headers.append(dict(request.headers))
            self.reservations.append(dict(request.query_params))
            await asyncio.sleep(self.reserve_delay_seconds)
            if self.reserve_answers:
                answer = self.reserve_answers.pop(0)
                return answer if isinstance(answer, Response) else JSONResponse(answer)
            year = request.query_params["cve_year"]
            number = 1000 + len(self.reservations) - 1
            return {"cve_ids": [{"cve_id": f"CVE-{year}-{number}", "state": "RESERVED"}]}

        @app.post("/api/cve/{cve_id}/cna")
        async def publish(cve_id: str, request: Request) -> JSONResponse:
            if self.fail_publish:
                return JSONResponse(
                    {"error": "BAD_INPUT", "message": "affected[0].product is not allowed"},
                    status_code=400,
                )
            self.published[cve_id] = (await request.json())["cnaContainer"]
            return JSONResponse({"message": f"{cve_id} was successfully published."})

        return app
