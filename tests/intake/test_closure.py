"""A researcher's report follows its case: accepted, resolved when the fix is live, published
when the advisory is public (with its link), each told by email; a duplicate's reporter reads
the original's tracking number; the chosen credit name is on the advisory and the CVE record."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from disclosure.flows import approve_text, disclose
from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.disclosure import service as disclosure
from vulnops.settings import Settings

ORG = "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"


async def _emails(db: Database, to: str) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(
            text("SELECT subject, body FROM outbound_emails WHERE to_address = :to ORDER BY id"),
            {"to": to},
        )
        return [(subject, body) for subject, body in rows.all()]


async def test_a_report_is_accepted_resolved_and_published_with_its_case(
    mail_client: httpx.AsyncClient,
    mail_settings: Settings,
    db: Database,
    make_user: MakeUser,
    fleet: Any,
) -> None:
    client = mail_client
    first, second = await make_user(Role.RESEARCHER), await make_user(Role.RESEARCHER)
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    reports = []
    for researcher, credit in ((first, "Ada L."), (second, "Grace H.")):
        submitted = await client.post(
            "/api/reports",
            json={
                "title": "Quota bypass in storage uploads",
                "description": "Steps.",
                "service": "storage",
                "credit_name": credit,
            },
            headers=bearer(await api_token(db, researcher)),
        )
        reports.append(submitted.json())
    case = (
        await client.post(
            "/api/cases",
            json={"title": "INTERNAL quota bypass", "report_ids": [r["id"] for r in reports]},
            headers=staff,
        )
    ).json()
    mine = bearer(await api_token(db, first))
    url = f"/api/reports/{reports[0]['id']}"
    assert (await client.get(url, headers=mine)).json()["state"] == "accepted"
    duplicate = (
        await client.get(
            f"/api/reports/{reports[1]['id']}", headers=bearer(await api_token(db, second))
        )
    ).json()
    assert duplicate["state"] == "closed" and duplicate["close_reason"] == "duplicate"
    assert reports[0]["tracking_id"] in duplicate["resolution"]
    assert case["tracking_id"] not in duplicate["resolution"]
    # A report that follows its case is not moved by hand.
    by_hand = await client.post(f"{url}/transition", json={"state": "resolved"}, headers=staff)
    assert by_hand.status_code == 409 and "follows it" in by_hand.json()["detail"]

    move = f"/api/cases/{case['id']}/transition"
    await client.post(move, json={"state": "mitigated", "reason": "a quota check"}, headers=staff)
    assert (await client.get(url, headers=mine)).json()["state"] == "resolved"
    await client.post(move, json={"state": "notified", "reason": "nothing to do"}, headers=staff)
    await approve_text(db, mail_settings, case["id"], title="Storage quotas could be bypassed")
    await disclose(db, mail_settings, case["id"])
    assert (await client.get(url, headers=mine)).json()["state"] == "published"

    sent = await _emails(db, first.email)
    statuses = [subject for subject, _ in sent if "Status" in subject]
    assert statuses == [
        f"[{reports[0]['tracking_id']}] Status: accepted",
        f"[{reports[0]['tracking_id']}] Status: resolved",
        f"[{reports[0]['tracking_id']}] Status: published",
    ]
    link = mail_settings.advisory_url(case["tracking_id"])
    assert link in sent[-1][1] and "INTERNAL" not in sent[-1][1]

    advisory = (await client.get(f"/security/advisories/{case['tracking_id']}.json")).json()
    assert advisory["credits"] == ["Ada L.", "Grace H."]
    cna = mail_settings.model_copy(update={"cna_org_id": ORG})
    async with db.session() as session:
        facts = await disclosure.cve_facts(
            session, case_id=case["id"], cve_id="CVE-2026-7777", settings=cna
        )
    assert facts.credits == ("Ada L.", "Grace H.")

    # Closing the case leaves the report published.
    await client.post(
        f"/api/cases/{case['id']}/transition",
        json={"state": "closed", "reason": "done"},
        headers=staff,
    )
    assert (await client.get(url, headers=mine)).json()["state"] == "published"
