"""Scanner imports through the API: one report per finding, re-uploads deduplicated."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select

from helpers import MakeUser, api_token, bearer, sample
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.intake.models import Report
from vulnops.settings import Settings


async def _reports(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def _upload(
    client: httpx.AsyncClient, headers: dict[str, str], content: bytes, service: str = "web"
) -> httpx.Response:
    return await client.post(
        "/api/scans/sarif",
        files={"file": ("scan.sarif", content, "application/sarif+json")},
        data={"service": service},
        headers=headers,
    )


async def test_a_sarif_log_becomes_reports_once(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    engineer = await make_user(Role.ENGINEER)
    headers = bearer(await api_token(db, engineer))
    content = sample("sarif/codeql-action-valid-sarif.sarif").read_bytes()
    first = await _upload(client, headers, content)
    assert first.status_code == 201
    body = first.json()
    assert (body["scanner_runs"], body["findings"], body["created"], body["already_known"]) == (
        2,
        3,
        3,
        0,
    )
    report = body["reports"][0]
    assert report["source"] == "scanner" and report["service"] == "web"
    assert report["endpoint"].endswith(":2")

    again = (await _upload(client, headers, content)).json()
    assert (again["created"], again["already_known"]) == (0, 3)
    assert await _reports(db) == 3


async def test_every_sample_scanner_imports(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    expected = {
        "codeql-action-valid-sarif.sarif": 3,
        "semgrep-dataflow-traces.sarif": 1,
        "semgrep-when-errors-minimal.sarif": 0,
        "trivy-alpine-310.sarif": 2,
    }
    for name, count in expected.items():
        response = await _upload(client, headers, sample(f"sarif/{name}").read_bytes())
        assert response.status_code == 201, (name, response.text)
        assert response.json()["created"] == count, name
    assert await _reports(db) == sum(expected.values())


async def test_a_malformed_log_is_a_422_naming_the_problem_and_imports_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    document = json.loads(sample("sarif/trivy-alpine-310.sarif").read_text())
    document["runs"][0]["results"][3]["level"] = "catastrophic"
    response = await _upload(client, headers, json.dumps(document).encode())
    assert response.status_code == 422
    assert "runs[0].results[3].level" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == "runs[0].results[3].level"
    assert await _reports(db) == 0

    not_json = await _upload(client, headers, b'{"version": "2.1.0", "runs": [')
    assert not_json.status_code == 422 and "not valid JSON" in not_json.json()["detail"]


async def test_an_oversized_log_is_a_413(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.max_sarif_bytes = 2000
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    response = await _upload(client, headers, sample("sarif/trivy-alpine-310.sarif").read_bytes())
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert await _reports(db) == 0


async def test_researchers_cannot_import_scans(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    content = sample("sarif/semgrep-dataflow-traces.sarif").read_bytes()
    assert (await _upload(client, headers, content)).status_code == 403
