"""Cases through the API: severity, states, deadlines, search, the SLA job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from helpers import MakeUser, api_token, bearer
from vulnops.audit.models import AuditEvent
from vulnops.auth.roles import Role
from vulnops.cases import deadlines
from vulnops.cases.models import Case
from vulnops.db.database import Database

SEVERITY = {
    "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N",
    "cvss40_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:H/SI:N/SA:N",
    "impact": "cross_tenant_access",
    "data_sensitivity": "customer_content",
    "exploitation": "poc",
    "automatable": True,
    "technical_impact": "partial",
    "mission_wellbeing": "high",
    "cwe_id": "CWE-639",
    "customer_action_required": False,
    "reason": "Tenant id is not checked; PoC reads another tenant's data.",
}


async def _staff(make_user: MakeUser, db: Database, role: Role = Role.RESPONDER) -> dict[str, str]:
    return bearer(await api_token(db, await make_user(role)))


async def _open(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> dict:
    response = await client.post(
        "/api/cases",
        json={"title": "Cross-tenant read", "services": ["Storage"], **body},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_assessing_severity_scores_rates_and_decides(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    case = await _open(client, headers)
    assert case["rating"] is None
    unrated_triage_due = case["triage_due"]
    assessed = await client.put(f"/api/cases/{case['id']}/severity", json=SEVERITY, headers=headers)
    assert assessed.status_code == 200, assessed.text
    body = assessed.json()
    assert body["cvss31_score"] == 7.7
    assert body["cvss40_score"] is not None
    assert body["rating"] == "critical"
    assert body["ssvc_decision"] == "Attend"
    assert body["cwe_id"] == 639
    # A critical case's deadlines are tighter than an unrated one's.
    assert body["triage_due"] < unrated_triage_due
    assert body["mitigate_due"] is not None

    # Rated critical, the case is restricted to its team; whoever rated it stays on it.
    assert body["restricted"] is True
    events = (await client.get(f"/api/cases/{case['id']}/events", headers=headers)).json()
    assert [e["kind"] for e in events["items"][-2:]] == [
        "case.severity_assessed",
        "case.restricted",
    ]
    assessed_event = events["items"][-2]
    assert assessed_event["data"]["reason"] == SEVERITY["reason"]
    assert assessed_event["data"]["rating"] == "critical"


async def test_an_invalid_vector_is_a_422_naming_the_metric_and_changes_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    case = await _open(client, headers)
    bad = {**SEVERITY, "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:Z"}
    response = await client.put(f"/api/cases/{case['id']}/severity", json=bad, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["metric"] == "A"
    assert '"A:Z"' in response.json()["detail"]
    after = (await client.get(f"/api/cases/{case['id']}", headers=headers)).json()
    assert after["rating"] is None and after["cvss31_vector"] is None


async def test_a_bad_cwe_and_a_missing_reason_are_422s(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    case = await _open(client, headers)
    bad_cwe = await client.put(
        f"/api/cases/{case['id']}/severity", json={**SEVERITY, "cwe_id": "XSS"}, headers=headers
    )
    assert bad_cwe.status_code == 422 and "CWE" in bad_cwe.json()["detail"]
    no_reason = {key: value for key, value in SEVERITY.items() if key != "reason"}
    missing = await client.put(f"/api/cases/{case['id']}/severity", json=no_reason, headers=headers)
    assert missing.status_code == 422 and "reason" in missing.json()["detail"]


async def test_a_hand_move_to_a_state_the_code_sets_is_a_409_naming_that_code(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    case = await _open(client, headers)
    url = f"/api/cases/{case['id']}/transition"
    for state, code in (("deploying", "the rollout"), ("disclosed", "embargo ends")):
        response = await client.post(url, json={"state": state}, headers=headers)
        assert response.status_code == 409
        assert code in response.json()["set_by"] and "not set by hand" in response.json()["detail"]
    shown = (await client.get(f"/api/cases/{case['id']}", headers=headers)).json()
    assert shown["state"] == "new" and shown["updated_at"] == case["updated_at"]


async def test_decisions_record_milestones_and_the_state_follows(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    engineer = await _staff(make_user, db, Role.ENGINEER)
    case = await _open(client, headers)
    url = f"/api/cases/{case['id']}/transition"
    triaging = (await client.post(url, json={"state": "triaging"}, headers=headers)).json()
    assert triaging["acknowledged_at"] is not None and triaging["state"] == "triaging"
    remediating = (await client.post(url, json={"state": "remediating"}, headers=engineer)).json()
    assert remediating["triaged_at"] is not None
    # Recorded twice: the first stands.
    again = (await client.post(url, json={"state": "remediating"}, headers=headers)).json()
    assert again["triaged_at"] == remediating["triaged_at"]
    no_reason = await client.post(url, json={"state": "mitigated"}, headers=engineer)
    assert no_reason.status_code == 422 and "without a deployment" in no_reason.json()["detail"]
    mitigated = (
        await client.post(
            url, json={"state": "mitigated", "reason": "feature flag off"}, headers=engineer
        )
    ).json()
    assert mitigated["state"] == "mitigated"
    assert mitigated["mitigated_at"] is not None and mitigated["next_due"] is None
    early = await client.post(url, json={"state": "closed", "reason": "fixed"}, headers=headers)
    assert early.status_code == 409 and early.json()["missing"] == ["customers_notified"]
    notified = await client.post(
        url, json={"state": "notified", "reason": "only our logs held it"}, headers=headers
    )
    assert notified.json()["state"] == "notified"
    assert (await client.post(url, json={"state": "closed"}, headers=headers)).status_code == 422
    closed = (
        await client.post(url, json={"state": "closed", "reason": "fixed"}, headers=headers)
    ).json()
    assert closed["closed_at"] is not None and closed["next_due"] is None
    facts = (await client.get(f"/api/cases/{case['id']}/milestones", headers=headers)).json()
    assert [m["milestone"] for m in facts] == [
        "reported",
        "acknowledged",
        "triaged",
        "mitigated",
        "customers_notified",
        "closed",
    ]
    assert facts[3]["reason"] == "feature flag off" and facts[3]["source"] == "hand"
    reopen = f"/api/cases/{case['id']}/reopen"
    assert (await client.post(reopen, json={}, headers=headers)).status_code == 422
    reopened = await client.post(reopen, json={"reason": "it came back"}, headers=headers)
    assert reopened.json()["state"] == "notified" and reopened.json()["closed_at"] is None
    # Communications may read cases but not move them.
    comms = await _staff(make_user, db, Role.COMMUNICATIONS)
    assert (await client.get(f"/api/cases/{case['id']}", headers=comms)).status_code == 200
    refused = await client.post(url, json={"state": "triaging", "reason": "x"}, headers=comms)
    assert refused.status_code == 403


async def test_overdue_cases_are_listed_nearest_deadline_first(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    late = await _open(client, headers, title="Late one")
    later = await _open(client, headers, title="Later one")
    await _open(client, headers, title="On time")
    now = datetime.now(UTC)
    async with db.session() as session:
        await session.execute(
            update(Case)
            .where(Case.id == late["id"])
            .values(acknowledge_due=now - timedelta(hours=5))
        )
        await session.execute(
            update(Case)
            .where(Case.id == later["id"])
            .values(acknowledge_due=now - timedelta(hours=1))
        )
        await session.commit()
    overdue = (
        await client.get("/api/cases", params={"overdue": True, "sort": "due"}, headers=headers)
    ).json()
    assert [case["title"] for case in overdue["items"]] == ["Late one", "Later one"]
    assert all(case["overdue"] for case in overdue["items"])


async def test_the_sla_job_records_each_breach_once(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    case = await _open(client, headers)
    async with db.session() as session:
        await session.execute(
            update(Case)
            .where(Case.id == case["id"])
            .values(acknowledge_due=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    for _ in range(2):
        async with db.session() as session:
            await deadlines.record_sla_breaches(session, now=datetime.now(UTC))
            await session.commit()
    async with db.session() as session:
        breaches = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.kind == "case.sla_breached", AuditEvent.subject == f"case:{case['id']}"
            )
        )
    assert breaches == 1
    # Reaching the milestone late does not record it again.
    await client.post(f"/api/cases/{case['id']}/acknowledge", headers=headers)
    async with db.session() as session:
        again = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == "case.sla_breached")
        )
    assert again == 1


async def test_a_late_acknowledgment_is_recorded_as_a_breach(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    case = await _open(client, headers)
    async with db.session() as session:
        await session.execute(
            update(Case)
            .where(Case.id == case["id"])
            .values(acknowledge_due=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    acknowledged = (
        await client.post(f"/api/cases/{case['id']}/acknowledge", headers=headers)
    ).json()
    assert acknowledged["acknowledged_at"] is not None
    events = (await client.get(f"/api/cases/{case['id']}/events", headers=headers)).json()
    kinds = [event["kind"] for event in events["items"]]
    recorded = [e["data"]["milestone"] for e in events["items"] if e["kind"].endswith("recorded")]
    assert "case.sla_breached" in kinds and "acknowledged" in recorded


async def test_cases_are_searched_and_filtered(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    one = await _open(
        client, headers, title="Token leakage in webhook retries", services=["events"]
    )
    await _open(
        client, headers, title="Privilege escalation through role import", services=["identity"]
    )
    found = (await client.get("/api/cases", params={"q": "webhook token"}, headers=headers)).json()
    assert [case["id"] for case in found["items"]] == [one["id"]]
    by_id = (
        await client.get("/api/cases", params={"q": one["tracking_id"]}, headers=headers)
    ).json()
    assert by_id["total"] == 1
    identity = (
        await client.get("/api/cases", params={"service": "identity"}, headers=headers)
    ).json()
    assert identity["total"] == 1
    bad_sort = await client.get("/api/cases", params={"sort": "random"}, headers=headers)
    assert bad_sort.status_code == 422


async def test_an_owner_must_be_active_staff(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = await _staff(make_user, db)
    researcher = await make_user(Role.RESEARCHER)
    response = await client.post(
        "/api/cases",
        json={"title": "Owned by an outsider", "owner_id": researcher.id},
        headers=headers,
    )
    assert response.status_code == 422 and "owner_id" in response.json()["detail"]
