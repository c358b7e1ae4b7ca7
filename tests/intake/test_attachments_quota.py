"""Attachment quotas: bytes per account in 24 hours and bytes per report (one researcher stored
400 MB in 4 s, 25 MB at a time). Past either, the whole upload is a 413 naming the quota, and
nothing of it is kept: no row, no file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.sql.functions import now as sql_now

from helpers import MakeUser, api_token, bearer, csrf, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.intake.models import Attachment, Report
from vulnops.settings import Settings

REPORT = {"title": "Open redirect on sign-in", "description": "next= accepts any URL."}


async def _report(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.post("/api/reports", json=REPORT, headers=headers)
    return int(response.json()["id"])


async def _attach(
    client: httpx.AsyncClient, headers: dict[str, str], report_id: int, *sizes: int
) -> httpx.Response:
    return await client.post(
        f"/api/reports/{report_id}/attachments",
        files=[
            ("file", (f"f{n}.bin", b"x" * size, "application/octet-stream"))
            for n, size in enumerate(sizes)
        ],
        headers=headers,
    )


async def _kept(db: Database, settings: Settings) -> tuple[int, int]:
    """Attachment rows, and files in the attachments directory."""
    async with db.session() as session:
        rows = int(await session.scalar(select(func.count()).select_from(Attachment)) or 0)
    directory = Path(settings.attachments_dir)
    return rows, len(list(directory.iterdir())) if directory.exists() else 0


async def test_an_account_uploads_at_most_its_daily_quota(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.attachment_bytes_per_account_per_day = 3000
    headers = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    first, second = await _report(client, headers), await _report(client, headers)
    assert (await _attach(client, headers, first, 1000, 1000)).status_code == 201
    assert (await _attach(client, headers, second, 1000)).status_code == 201  # 3000: the quota

    refused = await _attach(client, headers, second, 10, 1)
    assert refused.status_code == 413
    problem = refused.json()
    assert (problem["limit"], problem["limit_bytes"]) == (
        "attachment_bytes_per_account_per_day",
        3000,
    )
    assert problem["detail"] == (
        "these files (11 bytes) would pass the 2.9 KB of attachments one account may upload in "
        "24 hours: 2.9 KB are uploaded already"
    )
    assert await _kept(db, settings) == (3, 3)

    other = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    assert (await _attach(client, other, await _report(client, other), 3000)).status_code == 201
    async with db.session() as session:  # a day later, the first account may upload again
        await session.execute(
            update(Attachment)
            .where(Attachment.report_id.in_([first, second]))
            .values(created_at=sql_now() - func.make_interval(0, 0, 0, 0, 25))
        )
        await session.commit()
    assert (await _attach(client, headers, second, 10, 1)).status_code == 201


async def test_a_report_holds_at_most_its_quota_whoever_uploads(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.attachment_bytes_per_report = 2500
    researcher = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, researcher))
    report_id = await _report(client, headers)
    assert (await _attach(client, headers, report_id, 2000)).status_code == 201
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    refused = await _attach(client, responder, report_id, 400, 101)
    assert refused.status_code == 413
    assert refused.json()["limit"] == "attachment_bytes_per_report"
    assert refused.json()["detail"] == (
        "these files (501 bytes) would pass the 2.4 KB of attachments one report may hold: "
        "it holds 2.0 KB already"
    )
    assert await _kept(db, settings) == (1, 1)
    assert (await _attach(client, responder, report_id, 500)).status_code == 201

    # A new report with its files, on the researcher's page: refused as a whole.
    await sign_in(client, researcher.email)
    token = await csrf(client, "/reports/new")
    page = await client.post(
        "/reports/new",
        data={**REPORT, "csrftoken": token},
        files=[("files", ("big.bin", b"x" * 2501, "application/octet-stream"))],
    )
    assert page.status_code == 413
    assert "of attachments one report may hold" in page.text
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
    assert await _kept(db, settings) == (2, 2)


async def test_uploads_at_once_cannot_pass_the_quota_together(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    """Each fits on its own; together they do not: one of them is refused."""
    settings.attachment_bytes_per_account_per_day = 1500
    headers = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    reports = [await _report(client, headers) for _ in range(3)]
    answers = await asyncio.gather(*(_attach(client, headers, r, 1000) for r in reports))
    assert sorted(answer.status_code for answer in answers) == [201, 413, 413]
    assert await _kept(db, settings) == (1, 1)
