"""The free-disk guard: every upload — attachments, scans, test reports, SBOMs, fleet imports,
through the API and the pages — is a 507 that says why while storing it would take the data
directory's disk under its reserve, and nothing of it is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from helpers import PASSING_JUNIT, FixMaker, MakeUser, api_token, bearer, csrf, sample, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings

REPORT = {"title": "Open redirect on sign-in", "description": "next= accepts any URL."}
COUNTED = ("reports", "report_attachments", "fix_evidence", "service_versions", "audit_events")


async def _counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            table: int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
            for table in COUNTED
        }


async def test_every_upload_is_refused_while_the_disk_is_short_of_its_reserve(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    fleet: dict[str, Any],
    make_fix: FixMaker,
) -> None:
    admin = await make_user(Role.ADMIN)
    headers = bearer(await api_token(db, admin))
    report = await client.post("/api/reports", json={**REPORT, "exercise": "red"}, headers=headers)
    report_id = report.json()["id"]
    fix_id = await make_fix("9.9.9", evidence=False)
    await sign_in(client, admin.email)
    token = await csrf(client, f"/reports/{report_id}")
    file = ("poc.txt", b"proof", "text/plain")
    sarif = ("scan.sarif", sample("sarif/trivy-alpine-310.sarif").read_bytes(), "application/json")
    junit = ("junit.xml", PASSING_JUNIT, "application/xml")
    sbom = sample("cyclonedx/laravel-7.12.0.bom.1.4.json").read_bytes()
    uploads: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/reports/{report_id}/attachments", {"files": [("file", file)]}),
        (
            "POST",
            "/reports/new",
            {"data": {**REPORT, "exercise": "red", "csrftoken": token}, "files": [("files", file)]},
        ),
        (
            "POST",
            f"/reports/{report_id}/attachments",
            {"data": {"csrftoken": token}, "files": [("files", file)]},
        ),
        ("POST", "/api/scans/sarif", {"files": [("file", sarif)]}),
        ("POST", "/scans/import", {"data": {"csrftoken": token}, "files": [("file", sarif)]}),
        (
            "POST",
            f"/api/fixes/{fix_id}/evidence",
            {"data": {"suite": "compatibility"}, "files": [("report", junit)]},
        ),
        (
            "POST",
            f"/fixes/{fix_id}/evidence",
            {"data": {"suite": "compatibility", "csrftoken": token}, "files": [("report", junit)]},
        ),
        ("PUT", "/api/fleet/services/storage/versions/9.9.9/sbom", {"content": sbom}),
        (
            "POST",
            "/api/fleet/import",
            {"files": [("sbom", ("storage@9.9.9.cdx.json", sbom, "application/json"))]},
        ),
    ]
    before = await _counts(db)
    settings.min_free_disk_bytes = 2**62  # more than any disk has free
    for method, url, body in uploads:
        api = headers if url.startswith("/api/") else {}
        answer = await client.request(method, url, headers=api, **body)
        assert answer.status_code == 507, (url, answer.text)
        assert "short of disk space" in answer.text, url
    assert await _counts(db) == before
    attachments = Path(settings.attachments_dir)
    assert not attachments.exists() or not any(attachments.iterdir())

    settings.min_free_disk_bytes = 0
    method, url, body = uploads[0]
    assert (await client.request(method, url, **body, headers=headers)).status_code == 201
