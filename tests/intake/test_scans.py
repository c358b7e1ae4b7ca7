"""Scanner imports through the API: one report per finding, re-uploads deduplicated."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select, text

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
    # Each report keeps the severity its tool gave (found: reports had none of their own).
    async with db.session() as session:
        severities = (
            await session.execute(
                text("SELECT scanner, severity, count(*) FROM reports GROUP BY 1, 2 ORDER BY 1, 2")
            )
        ).all()
    assert [tuple(row) for row in severities] == [
        ("CodeQL command-line toolchain", "low", 2),
        ("LGTM.com", "low", 1),
        ("Semgrep OSS", "medium", 1),
        ("Trivy", "medium", 2),
    ]
    listed = await client.get("/api/reports", params={"source": "scanner"}, headers=headers)
    assert {item["severity"] for item in listed.json()["items"]} == {"low", "medium"}


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


def _log(results: int) -> bytes:
    """A minimal SARIF log with ``results`` distinct findings."""
    return json.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "bulk-scanner"}},
                    "results": [
                        {"ruleId": f"rule-{n}", "message": {"text": f"finding {n}"}}
                        for n in range(results)
                    ],
                }
            ],
        }
    ).encode()


async def test_a_deeply_nested_log_is_a_422_naming_the_bound_not_a_crash(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    deep = b'{"version": "2.1.0", "runs": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = await _upload(client, headers, deep)
    assert response.status_code == 422
    assert "nested deeper than 64 levels" in response.json()["detail"]
    # Deep, yet within what json.loads manages: the bound is ours, not the interpreter's.
    nested = b'{"version": "2.1.0", "runs": [], "x": ' + b"[" * 100 + b"]" * 100 + b"}"
    assert (await _upload(client, headers, nested)).status_code == 422
    assert await _reports(db) == 0


async def test_a_log_with_more_results_than_a_log_may_hold_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    response = await _upload(client, headers, _log(50_001))
    assert response.status_code == 422
    assert "more than 50,000 results" in response.json()["detail"]
    assert await _reports(db) == 0


async def test_one_upload_creates_at_most_scan_max_reports_and_otherwise_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    refused = await _upload(client, headers, _log(1001))  # the default bound is 1000
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "1,001 new findings" in detail and "VULNOPS_SCAN_MAX_REPORTS" in detail
    assert await _reports(db) == 0

    settings.scan_max_reports = 2
    codeql = sample("sarif/codeql-action-valid-sarif.sarif").read_bytes()  # 3 findings
    assert (await _upload(client, headers, codeql)).status_code == 422
    assert await _reports(db) == 0
    trivy = sample("sarif/trivy-alpine-310.sarif").read_bytes()  # 2 findings
    assert (await _upload(client, headers, trivy)).json()["created"] == 2
    # Findings already imported do not count against the bound.
    settings.scan_max_reports = 3
    assert (await _upload(client, headers, codeql)).json()["created"] == 3
    settings.scan_max_reports = 1
    again = await _upload(client, headers, codeql)
    assert again.status_code == 201 and again.json()["already_known"] == 3
    assert await _reports(db) == 5


async def test_re_uploading_a_log_takes_no_tracking_numbers(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    content = sample("sarif/codeql-action-valid-sarif.sarif").read_bytes()
    first = (await _upload(client, headers, content)).json()
    for _ in range(2):
        assert (await _upload(client, headers, content)).json()["created"] == 0
    researcher = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    report = await client.post(
        "/api/reports",
        json={"title": "A report after the scans", "description": "Found by hand."},
        headers=researcher,
    )
    assert report.status_code == 201, report.text
    last_scanned = max(int(r["tracking_id"][-6:]) for r in first["reports"])
    assert int(report.json()["tracking_id"][-6:]) == last_scanned + 1
