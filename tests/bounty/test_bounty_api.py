"""The bounty's JSON API end to end: a programme, a researcher's triaged report, an award proposed,
adjusted, approved by a second person, a payee, a payout paid; the researcher sees their own award
and balance and no one else's; bad input is a clear 4xx."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import yaml

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.bounty.tables import DEFAULT_TABLE_FILE
from vulnops.db.database import Database
from vulnops.intake.models import Report

TABLE = yaml.safe_load(DEFAULT_TABLE_FILE.read_text())


async def test_from_a_report_to_a_paid_award(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    ada = bearer(await api_token(db, researcher))
    other = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    triager = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    created = await client.post(
        "/api/bounty/programs",
        json={
            "key": "cloud",
            "name": "Cloud",
            "award_table": TABLE,
            "starts_at": "2020-01-01T00:00:00Z",
            "services": [],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["table_version"] == 1
    report = await client.post(
        "/api/reports",
        json={"title": "Tenant escape", "description": "Another tenant's disk."},
        headers=ada,
    )
    assert report.status_code == 201, report.text
    report_id = report.json()["id"]
    early = await client.post(
        f"/api/bounty/reports/{report_id}/award",
        json={"impact": "remote_code_execution", "severity": "critical", "quality": "high"},
        headers=triager,
    )
    assert early.status_code == 422 and "once it is triaged" in early.text
    async with db.session() as s:
        row = await s.get(Report, report_id)
        assert row is not None
        row.state = "triaged"
        await s.commit()
    uneven = await client.post(
        f"/api/bounty/reports/{report_id}/award",
        json={
            "impact": "spoofing",
            "severity": "critical",
            "quality": "high",
            "co_reporters": {str(researcher.id): 0.5},
        },
        headers=triager,
    )
    assert uneven.status_code == 422 and "add up to 1" in uneven.text
    proposed = await client.post(
        f"/api/bounty/reports/{report_id}/award",
        json={
            "impact": "remote_code_execution",
            "severity": "critical",
            "quality": "high",
            "scenarios": ["cross_tenant"],
        },
        headers=triager,
    )
    assert proposed.status_code == 201, proposed.text
    award = proposed.json()
    assert (award["status"], award["amount"]) == ("proposed", 90_000_00)
    adjusted = await client.post(
        f"/api/bounty/awards/{award['id']}/adjust",
        json={"amount": 80_000_00, "reason": "the write-up missed one step"},
        headers=triager,
    )
    assert adjusted.json()["amount"] == 80_000_00
    submitted = await client.post(f"/api/bounty/awards/{award['id']}/submit", headers=triager)
    assert submitted.json()["status"] == "pending_approval"
    refused = await client.post(
        f"/api/bounty/awards/{award['id']}/decide", json={"approve": True}, headers=triager
    )
    assert refused.status_code == 403  # a responder does not approve awards
    approved = await client.post(
        f"/api/bounty/awards/{award['id']}/decide", json={"approve": True}, headers=admin
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    payee = await client.put(
        f"/api/bounty/payees/{researcher.id}",
        json={"payment_reference": "payoneer:ada", "country": "FR", "tax_form_received": True},
        headers=admin,
    )
    assert payee.status_code == 200, payee.text
    too_much = await client.post(
        "/api/bounty/payouts",
        json={
            "key": "payout:1",
            "researcher_id": researcher.id,
            "amount": 90_000_00,
            "currency": "USD",
        },
        headers=admin,
    )
    assert too_much.status_code == 422 and "more than the $80,000.00" in too_much.text
    asked = await client.post(
        "/api/bounty/payouts",
        json={
            "key": "payout:1",
            "researcher_id": researcher.id,
            "amount": 80_000_00,
            "currency": "USD",
        },
        headers=admin,
    )
    assert asked.status_code == 201, asked.text
    reused = await client.post(
        "/api/bounty/payouts",
        json={"key": "payout:1", "researcher_id": researcher.id, "amount": 1_00, "currency": "USD"},
        headers=admin,
    )
    assert reused.status_code == 409
    paid = await client.post(
        "/api/bounty/payouts/payout:1/mark",
        json={"paid": True, "reference": "W-1"},
        headers=admin,
    )
    assert paid.status_code == 200, paid.text
    csv_text = (await client.get("/api/bounty/payouts.csv", headers=admin)).text
    assert "payout:1" in csv_text and ",paid,W-1," in csv_text
    mine = (await client.get("/api/bounty/me", headers=ada)).json()
    assert [(a["status"], a["amount"], a["my_share"]) for a in mine["awards"]] == [
        ("approved", 80_000_00, 80_000_00)
    ]
    assert mine["balances"][0]["paid"] == 80_000_00
    theirs = (await client.get("/api/bounty/me", headers=other)).json()
    assert (theirs["awards"], theirs["balances"], theirs["retests"]) == ([], [], [])
    assert theirs["standing"]["points"] == 0 and theirs["standing"]["rank"] is None
    assert (await client.get(f"/api/bounty/awards/{award['id']}", headers=ada)).status_code == 403


async def test_a_bad_table_or_a_bad_payee_is_a_clear_4xx(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    gap = {**TABLE, "rows": TABLE["rows"][1:]}
    refused = await client.post(
        "/api/bounty/programs",
        json={"key": "cloud", "award_table": gap, "starts_at": datetime.now(UTC).isoformat()},
        headers=admin,
    )
    assert refused.status_code == 422
    assert "no row for impact remote_code_execution, severity critical" in refused.text
    researcher = await make_user(Role.RESEARCHER)
    iban = await client.put(
        f"/api/bounty/payees/{researcher.id}",
        json={"payment_reference": "GB82WEST12345698765432", "country": "GB"},
        headers=admin,
    )
    assert iban.status_code == 422 and "bank account" in iban.text
    # Found by Schemathesis: a researcher that does not exist was a 500 (a foreign key).
    nobody = await client.put(
        "/api/bounty/payees/987654",
        json={"payment_reference": "payee-7", "country": "GB"},
        headers=admin,
    )
    assert nobody.status_code == 404 and "no user 987654" in nobody.text
    assert (await client.get("/api/bounty/programs", headers=admin)).json() == []
