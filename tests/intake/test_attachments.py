"""Attachments: stored outside the web root, size-limited, downloaded only as downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from sqlalchemy import func, select

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.intake.models import Attachment
from vulnops.settings import Settings

REPORT = {"title": "Open redirect on sign-in", "description": "next= accepts any URL."}


async def _report(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.post("/api/reports", json=REPORT, headers=headers)
    return int(response.json()["id"])


async def test_an_attachment_is_kept_in_the_data_dir_and_served_as_a_download(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, researcher))
    report_id = await _report(client, headers)
    content = b"<html><script>alert(1)</script></html>"
    uploaded = await client.post(
        f"/api/reports/{report_id}/attachments",
        files=[("file", ("../../poc.html", content, "text/html"))],
        headers=headers,
    )
    assert uploaded.status_code == 201
    [meta] = uploaded.json()
    assert meta["filename"] == "poc.html"
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    stored = list(Path(settings.attachments_dir).iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == content

    download = await client.get(
        f"/api/reports/{report_id}/attachments/{meta['id']}", headers=headers
    )
    assert download.content == content
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-security-policy"].startswith("sandbox; default-src")
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_only_the_reporter_and_staff_download(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    owner = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, owner))
    report_id = await _report(client, headers)
    [meta] = (
        await client.post(
            f"/api/reports/{report_id}/attachments",
            files=[("file", ("shot.png", b"\x89PNG....", "image/png"))],
            headers=headers,
        )
    ).json()
    path = f"/api/reports/{report_id}/attachments/{meta['id']}"
    other = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    assert (await client.get(path, headers=other)).status_code == 404
    customer = bearer(await api_token(db, await make_user(Role.CUSTOMER)))
    assert (await client.get(path, headers=customer)).status_code == 403
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    assert (await client.get(path, headers=responder)).status_code == 200
    wrong_report = f"/api/reports/{report_id + 1}/attachments/{meta['id']}"
    assert (await client.get(wrong_report, headers=responder)).status_code == 404


async def test_a_file_over_the_limit_is_a_413_and_nothing_is_kept(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.max_attachment_bytes = 1024
    researcher = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, researcher))
    report_id = await _report(client, headers)
    response = await client.post(
        f"/api/reports/{report_id}/attachments",
        files=[
            ("file", ("small.txt", b"ok", "text/plain")),
            ("file", ("big.bin", b"x" * 2048, "application/octet-stream")),
        ],
        headers=headers,
    )
    assert response.status_code == 413
    assert "big.bin" in response.json()["detail"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not any(Path(settings.attachments_dir).iterdir())


async def test_an_empty_file_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, researcher))
    report_id = await _report(client, headers)
    response = await client.post(
        f"/api/reports/{report_id}/attachments",
        files=[("file", ("empty.txt", b"", "text/plain"))],
        headers=headers,
    )
    assert response.status_code == 422 and "empty" in response.json()["detail"]
