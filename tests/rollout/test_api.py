"""Fixes and rollouts through the HTTP API: the happy path, and every refusal the issue names."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from helpers import FAILING_JUNIT as FAILING
from helpers import FLEET_SEED as SEED
from helpers import PASSING_JUNIT as PASSING
from helpers import FixMaker, MakeUser, api_token, bearer, sample
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.fleet import generator, importer
from vulnops.rollout.models import Rollout


@pytest.fixture
async def people(db: Database, make_user: MakeUser) -> dict[str, dict[str, str]]:
    headers = {}
    for role in (
        Role.ENGINEER,
        Role.RELEASE_MANAGER,
        Role.RESPONDER,
        Role.ADMIN,
        Role.COMMUNICATIONS,
    ):
        user = await make_user(role, email=f"{role.value}@example.com")
        headers[role.value] = bearer(await api_token(db, user))
    return headers


async def _case(client: httpx.AsyncClient, people: dict[str, dict[str, str]]) -> int:
    response = await client.post(
        "/api/cases",
        json={"title": "Storage fix", "services": ["storage"]},
        headers=people["responder"],
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _evidence(
    client: httpx.AsyncClient, headers: dict[str, str], fix_id: int, suite: str, data: bytes
) -> httpx.Response:
    return await client.post(
        f"/api/fixes/{fix_id}/evidence",
        data={"suite": suite},
        files={"report": ("junit.xml", data, "application/xml")},
        headers=headers,
    )


async def test_a_fix_needs_both_suites_passed_before_it_may_roll_out(
    client: httpx.AsyncClient, fleet: object, people: dict[str, dict[str, str]]
) -> None:
    case_id = await _case(client, people)
    created = await client.post(
        f"/api/cases/{case_id}/fixes",
        json={"service": "storage", "version": "2026.12.1", "artifact": "reg/storage:2026.12.1"},
        headers=people["engineer"],
    )
    assert created.status_code == 201, created.text
    fix = created.json()
    assert not fix["ready"] and fix["missing"] == [
        "no compatibility results",
        "no data-integrity results",
    ]
    start = {"fix_id": fix["id"], "policy": "standard"}
    refused = await client.post("/api/rollouts", json=start, headers=people["release_manager"])
    assert refused.status_code == 409 and "test evidence" in refused.json()["detail"]
    failed = await _evidence(client, people["engineer"], fix["id"], "compatibility", FAILING)
    assert failed.status_code == 201 and failed.json()["passed"] is False
    assert failed.json()["failed_cases"][0]["message"] == "boom"
    assert (
        await _evidence(client, people["engineer"], fix["id"], "data-integrity", PASSING)
    ).json()["passed"]
    still = (await client.get(f"/api/fixes/{fix['id']}", headers=people["engineer"])).json()
    assert not still["ready"] and "the compatibility suite did not pass" in still["missing"][0]
    await _evidence(client, people["engineer"], fix["id"], "compatibility", PASSING)
    ready = (
        await client.get(f"/api/cases/{case_id}/fixes", headers=people["communications"])
    ).json()
    assert ready[0]["ready"] and ready[0]["missing"] == []
    plan = await client.post("/api/rollouts/plan", json=start, headers=people["communications"])
    assert plan.status_code == 200
    kinds = [stage["kind"] for stage in plan.json()["stages"]]
    assert kinds[:2] == ["canary", "pilot"] and set(kinds[2:]) == {"wave"}
    assert plan.json()["stages"][-1]["cumulative_traffic"] == pytest.approx(1.0)
    started = await client.post("/api/rollouts", json=start, headers=people["release_manager"])
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "running" and body["units"] == {
        "pending": sum(s["units"] for s in plan.json()["stages"])
    }
    again = await client.post("/api/rollouts", json=start, headers=people["release_manager"])
    assert again.status_code == 409 and "already has an active rollout" in again.json()["detail"]


async def test_bad_evidence_is_refused_whole(
    client: httpx.AsyncClient,
    make_fix: FixMaker,
    people: dict[str, dict[str, str]],
    fleet: object,
    db: Database,
) -> None:
    fix_id = await make_fix("2026.12.3", evidence=False)
    for data, message in (
        (b"<html></html>", "not a JUnit XML report"),
        (b"<testsuite", "not well-formed XML"),
        (
            b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite>&x;</testsuite>',
            "refused",
        ),
    ):
        response = await _evidence(client, people["engineer"], fix_id, "compatibility", data)
        assert response.status_code == 422 and message in response.json()["detail"], response.text
    unknown = await _evidence(client, people["engineer"], fix_id, "load", PASSING)
    assert (
        unknown.status_code == 422 and "compatibility, data-integrity" in unknown.json()["detail"]
    )
    fix = (await client.get(f"/api/fixes/{fix_id}", headers=people["engineer"])).json()
    assert fix["evidence"] == {}
    bad_version = await client.post(
        f"/api/cases/{fix['case_id']}/fixes",
        json={"service": "storage", "version": "--force"},
        headers=people["engineer"],
    )
    assert bad_version.status_code == 422 and "version" in bad_version.json()["detail"]


async def test_real_junit_reports_from_three_tools(
    client: httpx.AsyncClient, make_fix: FixMaker, people: dict[str, dict[str, str]], fleet: object
) -> None:
    fix_id = await make_fix("2026.12.4", evidence=False)
    expected = {
        "junit/pytest-junit.gloo.elastic.xml": (14, 0, 0, 4, True),
        "junit/go-junit-report-001-report.xml": (5, 1, 0, 2, False),
        "junit/TEST-action.surefire.report.email.EmailAddressTest.xml": (9, 2, 5, 0, False),
    }
    for relative, (tests, failures, errors, skipped, passed) in expected.items():
        data = sample(relative).read_bytes()
        body = (await _evidence(client, people["engineer"], fix_id, "compatibility", data)).json()
        assert (
            body["tests"],
            body["failures"],
            body["errors"],
            body["skipped"],
            body["passed"],
        ) == (
            tests,
            failures,
            errors,
            skipped,
            passed,
        ), relative


async def test_expedited_needs_another_person_to_approve(
    client: httpx.AsyncClient, make_fix: FixMaker, people: dict[str, dict[str, str]], fleet: object
) -> None:
    fix_id = await make_fix("2026.12.5")
    start = {"fix_id": fix_id, "policy": "expedited"}
    no_approver = await client.post("/api/rollouts", json=start, headers=people["release_manager"])
    assert no_approver.status_code == 422 and "named approver" in no_approver.json()["detail"]
    self_named = await client.post(
        "/api/rollouts",
        json={**start, "approver": "release_manager@example.com"},
        headers=people["release_manager"],
    )
    assert self_named.status_code == 403
    started = await client.post(
        "/api/rollouts",
        json={**start, "approver": "responder@example.com"},
        headers=people["release_manager"],
    )
    assert started.status_code == 201 and started.json()["status"] == "awaiting_approval"
    rollout_id = started.json()["id"]
    by_starter = await client.post(
        f"/api/rollouts/{rollout_id}/approve", headers=people["release_manager"]
    )
    assert by_starter.status_code == 403 and "four eyes" in by_starter.json()["detail"]
    by_other = await client.post(f"/api/rollouts/{rollout_id}/approve", headers=people["admin"])
    assert by_other.status_code == 403 and "named approver" in by_other.json()["detail"]
    approved = await client.post(f"/api/rollouts/{rollout_id}/approve", headers=people["responder"])
    assert approved.status_code == 200 and approved.json()["status"] == "running"


async def test_operations_move_a_rollout_and_refuse_what_its_state_does_not_allow(
    client: httpx.AsyncClient, make_fix: FixMaker, people: dict[str, dict[str, str]], fleet: object
) -> None:
    fix_id = await make_fix("2026.12.6")
    rollout = (
        await client.post(
            "/api/rollouts", json={"fix_id": fix_id}, headers=people["release_manager"]
        )
    ).json()
    path = f"/api/rollouts/{rollout['id']}"
    manager = people["release_manager"]
    assert (await client.post(f"{path}/pause", json={}, headers=manager)).json()[
        "status"
    ] == "paused"
    again = await client.post(f"{path}/pause", json={}, headers=manager)
    assert again.status_code == 409 and "only a rollout that is running" in again.json()["detail"]
    assert (await client.post(f"{path}/resume", json={}, headers=manager)).json()[
        "status"
    ] == "running"
    no_reason = await client.post(f"{path}/abort", json={"reason": ""}, headers=manager)
    assert no_reason.status_code == 422
    rolled = await client.post(f"{path}/rollback", json={"reason": "wrong build"}, headers=manager)
    assert rolled.json()["status"] == "rolling_back"
    aborted = await client.post(f"{path}/abort", json={"reason": "enough"}, headers=manager)
    assert aborted.json()["status"] == "aborted"
    engineer = await client.post(f"{path}/pause", json={}, headers=people["engineer"])
    assert engineer.status_code == 403
    events = (
        await client.get(f"/api/cases/{rollout['case_id']}/events", headers=people["responder"])
    ).json()
    kinds = [event["kind"] for event in events["items"]]
    for kind in (
        "rollout.started",
        "rollout.paused",
        "rollout.resumed",
        "rollout.rollback_requested",
        "rollout.aborted",
    ):
        assert kind in kinds


async def test_a_service_without_units_is_422_and_one_already_on_target_409(
    client: httpx.AsyncClient,
    make_fix: FixMaker,
    people: dict[str, dict[str, str]],
    fleet: object,
    db: Database,
) -> None:
    topology = generator.topology(SEED, "small")
    topology["services"] += [
        {"key": "ghost", "name": "Ghost", "owner_team": "nobody"},
        {"key": "solo", "name": "Solo", "owner_team": "one"},
    ]
    topology["units"] += [
        {
            "service": "solo",
            "region": region,
            "scale_unit": "su-01",
            "version": "1.0",
            "traffic_share": 0.5,
            "tags": [],
        }
        for region in ("eu-west-1", "eu-west-2")
    ]
    async with db.session() as session:
        await importer.import_bundle(session, actor="test", topology=(json.dumps(topology), "t"))
        await session.commit()
    manager = people["release_manager"]
    ghost = await make_fix("1.0", service="ghost")
    response = await client.post("/api/rollouts", json={"fix_id": ghost}, headers=manager)
    assert response.status_code == 422 and "no deployment units" in response.json()["detail"]
    solo = await make_fix("1.0", service="solo")
    response = await client.post("/api/rollouts", json={"fix_id": solo}, headers=manager)
    assert response.status_code == 409 and "already runs 1.0" in response.json()["detail"]
    unknown = await client.post(
        "/api/rollouts", json={"fix_id": solo, "policy": "yolo"}, headers=manager
    )
    assert unknown.status_code == 422 and "unknown 'yolo'" in unknown.json()["detail"]
    async with db.session() as session:
        assert list(await session.scalars(select(Rollout))) == []


async def test_the_stream_sends_the_rollout_as_server_sent_events(
    client: httpx.AsyncClient, make_fix: FixMaker, people: dict[str, dict[str, str]], fleet: object
) -> None:
    fix_id = await make_fix("2026.12.7")
    manager = people["release_manager"]
    rollout = (await client.post("/api/rollouts", json={"fix_id": fix_id}, headers=manager)).json()
    await client.post(
        f"/api/rollouts/{rollout['id']}/abort", json={"reason": "stop"}, headers=manager
    )
    response = await client.get(f"/api/rollouts/{rollout['id']}/stream", headers=manager)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block.strip()]
    assert events and events[0].startswith("event: rollout\ndata: ")
    snapshot = json.loads(events[0].split("data: ", 1)[1])
    assert snapshot["status"] == "aborted" and snapshot["stages"][0]["kind"] == "canary"
    missing = await client.get("/api/rollouts/999999/stream", headers=manager)
    assert missing.status_code == 404
