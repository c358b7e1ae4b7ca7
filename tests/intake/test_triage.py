"""Triage: states, merging into cases, the thread both ways, duplicate candidates."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from helpers import MakeUser, SmtpSink, api_token, bearer, run_jobs_until
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.mail.models import OutboundEmail
from vulnops.settings import Settings

BASE = {
    "title": "IDOR lets any tenant read another tenant's backup policy",
    "description": "GET /api/backups/{id}/policy does not check the tenant.",
    "service": "backup",
    "endpoint": "GET /api/backups/{id}/policy",
}


async def _people(make_user: MakeUser, db: Database) -> tuple[User, dict[str, str], dict[str, str]]:
    researcher = await make_user(Role.RESEARCHER)
    responder = await make_user(Role.RESPONDER)
    return (
        researcher,
        bearer(await api_token(db, researcher)),
        bearer(await api_token(db, responder)),
    )


async def _submit(client: httpx.AsyncClient, headers: dict[str, str], **changes: str) -> dict:
    response = await client.post("/api/reports", json={**BASE, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_asking_for_information_and_closing_say_why(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, staff = await _people(make_user, db)
    report = await _submit(client, mine)
    url = f"/api/reports/{report['id']}/transition"

    silent = await client.post(url, json={"state": "needs_info"}, headers=staff)
    assert silent.status_code == 422 and "what is missing" in silent.json()["detail"]
    asked = await client.post(
        url, json={"state": "needs_info", "resolution": "Which region?"}, headers=staff
    )
    assert asked.json()["state"] == "needs_info"

    no_reason = await client.post(url, json={"state": "closed"}, headers=staff)
    assert no_reason.status_code == 422 and "close_reason" in no_reason.json()["detail"]
    closed = await client.post(
        url,
        json={"state": "closed", "close_reason": "out_of_scope", "resolution": "Third-party."},
        headers=staff,
    )
    assert closed.json()["state"] == "closed"

    seen = (await client.get(f"/api/reports/{report['id']}", headers=mine)).json()
    assert [step["state"] for step in seen["history"]] == ["new", "needs_info", "closed"]
    assert seen["history"][2]["note"] == "Third-party."
    assert seen["resolution"] == "Third-party." and seen["close_reason"] == "out_of_scope"


async def test_an_illegal_report_move_is_a_409_with_the_allowed_ones(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, staff = await _people(make_user, db)
    report = await _submit(client, mine)
    url = f"/api/reports/{report['id']}/transition"
    await client.post(url, json={"state": "triaged"}, headers=staff)
    again = await client.post(url, json={"state": "needs_info", "resolution": "x"}, headers=staff)
    assert again.status_code == 409
    assert again.json()["allowed"] == ["closed"]


async def test_researchers_cannot_triage(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, _ = await _people(make_user, db)
    report = await _submit(client, mine)
    response = await client.post(
        f"/api/reports/{report['id']}/transition", json={"state": "triaged"}, headers=mine
    )
    assert response.status_code == 403


async def test_the_earliest_valid_report_is_the_original(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, staff = await _people(make_user, db)
    spam = await _submit(client, mine, title="Buy cheap watches")
    first = await _submit(client, mine)
    second = await _submit(client, mine, title="Backup policy of other tenants readable")
    await client.post(
        f"/api/reports/{spam['id']}/transition",
        json={"state": "closed", "close_reason": "spam", "resolution": "Spam."},
        headers=staff,
    )
    case = (
        await client.post(
            "/api/cases",
            json={
                "title": "Backup policy IDOR",
                "report_ids": [second["id"], first["id"], spam["id"]],
            },
            headers=staff,
        )
    ).json()
    assert case["tracking_id"].startswith("CASE-")
    assert case["services"] == ["backup"]
    # The case's clock starts at the first report, not at the case's opening.
    assert (
        case["started_at"]
        == (await client.get(f"/api/reports/{spam['id']}", headers=staff)).json()["received_at"]
    )

    reports = {
        r["id"]: r
        for r in (await client.get(f"/api/cases/{case['id']}/reports", headers=staff)).json()
    }
    assert reports[first["id"]]["state"] == "accepted"
    assert reports[second["id"]]["state"] == "closed"
    assert reports[second["id"]]["close_reason"] == "duplicate"
    assert reports[spam["id"]]["close_reason"] == "spam"
    # The duplicate's reporter reads which report it duplicates: its number, not its case.
    seen = (await client.get(f"/api/reports/{second['id']}", headers=mine)).json()
    assert first["tracking_id"] in seen["resolution"]
    assert case["tracking_id"] not in seen["resolution"]


async def test_a_report_in_a_case_cannot_join_another(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, staff = await _people(make_user, db)
    report = await _submit(client, mine)
    one = (
        await client.post(
            "/api/cases", json={"title": "One", "report_ids": [report["id"]]}, headers=staff
        )
    ).json()
    other = (await client.post("/api/cases", json={"title": "Other case"}, headers=staff)).json()
    moved = await client.post(
        f"/api/reports/{report['id']}/merge", json={"case_id": other["id"]}, headers=staff
    )
    assert moved.status_code == 409
    again = await client.post(
        "/api/cases", json={"title": "Third", "report_ids": [report["id"]]}, headers=staff
    )
    assert again.status_code == 409
    assert (await client.get(f"/api/cases/{one['id']}/reports", headers=staff)).json()[0][
        "id"
    ] == report["id"]


async def test_the_thread_goes_both_ways_with_email(
    mail_client: httpx.AsyncClient,
    make_user: MakeUser,
    db: Database,
    mail_settings: Settings,
    smtp_server: tuple[SmtpSink, int],
) -> None:
    sink, _ = smtp_server
    researcher, mine, staff = await _people(make_user, db)
    report = await _submit(mail_client, mine)
    url = f"/api/reports/{report['id']}/messages"
    await mail_client.post(
        url, json={"body": "Thanks — which tenant ids did you use?"}, headers=staff
    )
    thread = (
        await mail_client.post(url, json={"body": "Tenants 4 and 9, both mine."}, headers=mine)
    ).json()
    assert [m["from_staff"] for m in thread] == [True, False]
    assert thread[0]["author"] == "Security response team"

    async def all_sent() -> bool:
        async with db.session() as session:
            pending = await session.scalar(
                select(OutboundEmail).where(OutboundEmail.status != "sent")
            )
        return pending is None and len(sink.messages) == 3

    await run_jobs_until(db, mail_settings, all_sent)
    recipients = sorted(message["To"] for message in sink.messages)
    assert recipients == sorted([researcher.email, researcher.email, "triage@example.com"])
    reply = next(m for m in sink.messages if m["To"] == "triage@example.com")
    assert "Tenants 4 and 9" in reply.get_content()


async def test_staff_who_cannot_triage_cannot_write_in_the_thread(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, _ = await _people(make_user, db)
    engineer = await make_user(Role.ENGINEER)
    report = await _submit(client, mine)
    response = await client.post(
        f"/api/reports/{report['id']}/messages",
        json={"body": "hi"},
        headers=bearer(await api_token(db, engineer)),
    )
    assert response.status_code == 403


async def test_duplicate_candidates_rank_the_real_duplicate_first(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    _, mine, staff = await _people(make_user, db)
    original = await _submit(client, mine)
    await _submit(
        client,
        mine,
        title="Stored XSS in the support ticket subject",
        service="support",
        endpoint="POST /tickets",
        description="Script in the subject runs for agents.",
    )
    await _submit(
        client,
        mine,
        title="Rate limit missing on login",
        service="identity",
        endpoint="POST /login",
        description="No lockout after failures.",
    )
    case = (
        await client.post(
            "/api/cases",
            json={"title": "Cross-tenant read of backup policies", "services": ["backup"]},
            headers=staff,
        )
    ).json()
    new = await _submit(
        client,
        mine,
        title="Other tenants' backup policy readable by id",
        description="Changing the id in GET /api/backups/{id}/policy shows foreign policies.",
    )
    candidates = (await client.get(f"/api/reports/{new['id']}/duplicates", headers=staff)).json()
    assert candidates[0]["kind"] == "report" and candidates[0]["id"] == original["id"]
    assert "same endpoint" in candidates[0]["reasons"]
    assert "same service" in candidates[0]["reasons"]
    kinds = {(c["kind"], c["id"]) for c in candidates[:3]}
    assert ("case", case["id"]) in kinds
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    unrelated = [c for c in candidates if "login" in c["title"].lower()]
    assert all(c["score"] < candidates[0]["score"] / 2 for c in unrelated)
    # Only earlier reports are candidates.
    earlier = (await client.get(f"/api/reports/{original['id']}/duplicates", headers=staff)).json()
    assert all(c["id"] != new["id"] for c in earlier if c["kind"] == "report")
