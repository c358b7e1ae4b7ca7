"""Submitting, seeing and listing reports; acknowledgments over real SMTP."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from helpers import MakeUser, SmtpSink, api_token, bearer, run_jobs_until
from vulnops.audit.models import AuditEvent
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.intake.models import Report
from vulnops.mail.models import OutboundEmail
from vulnops.settings import Settings

REPORT = {
    "title": "SSRF in the image import endpoint reaches the metadata service",
    "description": "Fetching `http://169.254.169.254/` through the importer returns credentials.",
    "service": "Storage",
    "endpoint": "POST /api/v2/images/import",
    "reproduction": "1. Create an import with url=http://169.254.169.254/latest/meta-data/",
    "impact": "Instance credentials of the import workers.",
    "credit_name": "ada",
}


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_researcher_gets_a_tracking_number_at_once(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    response = await client.post(
        "/api/reports", json=REPORT, headers=bearer(await api_token(db, researcher))
    )
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"VULN-\d{4}-\d{6}", body["tracking_id"])
    assert body["state"] == "new" and body["source"] == "researcher"
    assert body["service"] == "storage"
    assert body["contact"] == researcher.email
    assert body["history"][0]["state"] == "new"


async def test_the_acknowledgment_is_emailed_over_smtp(
    mail_client: httpx.AsyncClient,
    make_user: MakeUser,
    db: Database,
    mail_settings: Settings,
    smtp_server: tuple[SmtpSink, int],
) -> None:
    sink, _ = smtp_server
    researcher = await make_user(Role.RESEARCHER)
    response = await mail_client.post(
        "/api/reports", json=REPORT, headers=bearer(await api_token(db, researcher))
    )
    tracking = response.json()["tracking_id"]

    async def delivered() -> bool:
        return bool(sink.messages)

    await run_jobs_until(db, mail_settings, delivered)
    [message] = sink.messages
    assert message["To"] == researcher.email
    assert tracking in message["Subject"]
    assert f"/reports/{response.json()['id']}" in message.get_content()
    async with db.session() as session:
        email = await session.scalar(select(OutboundEmail))
    assert email is not None and email.status == "sent"


async def test_without_smtp_no_email_is_queued(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    await client.post("/api/reports", json=REPORT, headers=bearer(await api_token(db, researcher)))
    assert await _count(db, OutboundEmail) == 0


async def test_a_researcher_never_sees_anothers_report(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    alice, bob = await make_user(Role.RESEARCHER), await make_user(Role.RESEARCHER)
    alice_headers = bearer(await api_token(db, alice))
    bob_headers = bearer(await api_token(db, bob))
    report = (await client.post("/api/reports", json=REPORT, headers=alice_headers)).json()
    for path in (
        f"/api/reports/{report['id']}",
        f"/api/reports/{report['id']}/messages",
        f"/reports/{report['id']}",
    ):
        assert (await client.get(path, headers=bob_headers)).status_code == 404, path
    # …and the answer is the same as for a report that does not exist.
    missing = await client.get("/api/reports/999999", headers=bob_headers)
    hidden = await client.get(f"/api/reports/{report['id']}", headers=bob_headers)
    assert missing.json()["detail"].replace("999999", "X") == hidden.json()["detail"].replace(
        str(report["id"]), "X"
    )
    assert (await client.get("/api/reports", headers=bob_headers)).json()["total"] == 0
    assert (await client.get("/api/reports", headers=alice_headers)).json()["total"] == 1


async def test_staff_see_every_report_and_filter_in_sql(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    responder = await make_user(Role.RESPONDER)
    headers = bearer(await api_token(db, researcher))
    await client.post("/api/reports", json=REPORT, headers=headers)
    await client.post(
        "/api/reports",
        json={
            **REPORT,
            "title": "Reflected XSS in the billing portal search",
            "service": "billing",
            "description": "The q parameter is echoed unescaped.",
        },
        headers=headers,
    )
    staff = bearer(await api_token(db, responder))
    everything = (await client.get("/api/reports", headers=staff)).json()
    assert everything["total"] == 2
    billing = (
        await client.get("/api/reports", params={"service": "billing"}, headers=staff)
    ).json()
    assert [r["title"] for r in billing["items"]] == ["Reflected XSS in the billing portal search"]
    found = (
        await client.get("/api/reports", params={"q": "metadata credentials"}, headers=staff)
    ).json()
    assert found["total"] == 1 and "SSRF" in found["items"][0]["title"]
    by_number = (
        await client.get(
            "/api/reports", params={"q": found["items"][0]["tracking_id"]}, headers=staff
        )
    ).json()
    assert by_number["total"] == 1


async def test_missing_fields_are_a_422_and_nothing_is_written(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    response = await client.post(
        "/api/reports",
        json={"description": "no title"},
        headers=bearer(await api_token(db, researcher)),
    )
    assert response.status_code == 422
    assert any(error["loc"] == ["body", "title"] for error in response.json()["errors"])
    assert await _count(db, Report) == 0
    assert await _count(db, AuditEvent) == 1  # the token's creation only


async def test_customers_cannot_submit(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    customer = await make_user(Role.CUSTOMER)
    response = await client.post(
        "/api/reports", json=REPORT, headers=bearer(await api_token(db, customer))
    )
    assert response.status_code == 403


async def test_internal_reports_name_their_exercise(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    engineer = await make_user(Role.ENGINEER)
    headers = bearer(await api_token(db, engineer))
    missing = await client.post("/api/reports", json=REPORT, headers=headers)
    assert missing.status_code == 422 and "exercise" in missing.json()["detail"]
    made = await client.post(
        "/api/reports", json={**REPORT, "exercise": "Red team: Operation Lantern"}, headers=headers
    )
    assert made.status_code == 201
    assert made.json()["source"] == "internal"
    assert made.json()["exercise"] == "Red team: Operation Lantern"


async def test_a_partner_submits_as_a_partner(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    partner = await make_user(Role.PARTNER)
    made = await client.post(
        "/api/reports", json=REPORT, headers=bearer(await api_token(db, partner))
    )
    assert made.json()["source"] == "partner"
    smuggled = await client.post(
        "/api/reports",
        json={**REPORT, "exercise": "not mine"},
        headers=bearer(await api_token(db, partner)),
    )
    assert smuggled.status_code == 422


async def test_markdown_is_rendered_without_its_html(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    headers = bearer(await api_token(db, researcher))
    evil = {
        **REPORT,
        "title": "<script>alert('title')</script>",
        "description": "**bold** <img src=x onerror=alert(1)> [x](javascript:alert(2))",
    }
    report = (await client.post("/api/reports", json=evil, headers=headers)).json()
    page = (await client.get(f"/reports/{report['id']}", headers=headers)).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert "<strong>bold</strong>" in page
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript:' not in page
