"""Reports per hour per account: the 61st within the hour is refused (429, Retry-After) and
nothing of it is written; partners have their own quota (none by default), staff none."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select, text

from helpers import MakeUser, api_token, bearer, csrf, sign_in
from vulnops.audit.models import AuditEvent
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.intake.models import Report
from vulnops.settings import Settings

REPORT = {
    "title": "Open redirect after sign-out",
    "description": "The `next` parameter is followed to any host.",
    "service": "portal",
}


async def _written(db: Database) -> tuple[int, int, int]:
    """Reports, their submission events, and jobs queued."""
    async with db.session() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == "report.submitted")
        )
        jobs = await session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    return int(reports or 0), int(events or 0), int(jobs or 0)


async def _submit(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> int:
    response = await client.post(
        "/api/reports", json={**REPORT, "title": f"{REPORT['title']} ({n})"}, headers=headers
    )
    return response.status_code


async def test_the_61st_report_within_the_hour_is_refused_and_nothing_of_it_written(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    assert [await _submit(client, headers, n) for n in range(60)] == [201] * 60

    refused = await client.post("/api/reports", json=REPORT, headers=headers)
    assert refused.status_code == 429
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    problem = refused.json()
    assert problem["retry_after"] == int(refused.headers["Retry-After"])
    assert problem["detail"].startswith(
        "this account's quota of reports is used up (60 within the last hour)"
    )
    assert await _written(db) == (60, 60, 0)


async def test_the_wait_ends_when_the_oldest_counted_report_is_an_hour_old(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.reports_per_hour_per_account = 3
    researcher = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, researcher))
    assert [await _submit(client, headers, n) for n in range(4)] == [201] * 3 + [429]
    async with db.session() as session:  # received 70, 50 and 10 minutes ago
        await session.execute(
            text(
                "UPDATE reports SET received_at = now() - make_interval(mins => "
                "(ARRAY[70, 50, 10])[id - (SELECT min(id) FROM reports) + 1])"
            )
        )
        await session.commit()
    # The one of 70 minutes ago no longer counts: room for one more.
    assert await _submit(client, headers, 4) == 201
    refused = await client.post("/api/reports", json=REPORT, headers=headers)
    assert refused.status_code == 429
    # Full again: of the three newest, the one of 50 minutes ago is an hour old in 10.
    assert 590 <= int(refused.headers["Retry-After"]) <= 600


async def test_partners_have_their_own_quota_none_by_default_and_staff_none(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.reports_per_hour_per_account = 2
    partner = bearer(await api_token(db, await make_user(Role.PARTNER)))
    assert [await _submit(client, partner, n) for n in range(4)] == [201] * 4

    settings.partner_reports_per_hour_per_account = 5
    assert [await _submit(client, partner, n) for n in range(4, 6)] == [201, 429]

    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    internal = {**REPORT, "exercise": "Red team: Operation Lantern"}
    answers = [
        (await client.post("/api/reports", json=internal, headers=engineer)).status_code
        for _ in range(3)
    ]
    assert answers == [201] * 3


async def test_submissions_at_once_cannot_pass_the_quota_together(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.reports_per_hour_per_account = 4
    headers = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    answers = await asyncio.gather(*(_submit(client, headers, n) for n in range(9)))
    assert sorted(answers) == [201] * 4 + [429] * 5
    assert await _written(db) == (4, 4, 0)


async def test_the_form_says_when_the_next_report_is_possible(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, settings: Settings
) -> None:
    settings.reports_per_hour_per_account = 1
    researcher = await make_user(Role.RESEARCHER)
    assert await _submit(client, bearer(await api_token(db, researcher)), 0) == 201
    await sign_in(client, researcher.email)
    token = await csrf(client, "/reports/new")
    page = await client.post("/reports/new", data={**REPORT, "csrftoken": token})
    assert page.status_code == 429
    assert 3500 < int(page.headers["Retry-After"]) <= 3600
    assert "quota of reports is used up (1 within the last hour)" in page.text
    assert REPORT["title"] in page.text  # what was typed is kept
    assert await _written(db) == (1, 1, 0)
