"""Reserving and publishing a CVE through a local server that answers the CVE Services
endpoints cvelib calls (the real service is not reachable here), and the disclosure itself:
asked for by one person, approved by another, never before the customers were told, never with
its text missing — and a CVE never published during the embargo, by any route, the command
line or the scheduled job."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import SecretStr
from sqlalchemy import text

from disclosure.flows import approve_text, disclose
from helpers import MakeUser, acli, api_token, bearer, csrf, serving, sign_in
from notify.notify_world import World, draft, world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.disclosure import disclosing, publishing
from vulnops.settings import Settings
from vulnops.web.app import create_app
from vulnops.web.routes import endpoints

ORG = "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"


@dataclass
class CveServicesDouble:
    """POST /api/cve-id and POST /api/cve/{id}/cna, as CVE Services answers them."""

    fail_publish: bool = False
    # What the next reservations answer instead of a fresh id (a JSON body, or a response).
    reserve_answers: list[Any] = field(default_factory=list)
    reserve_delay_seconds: float = 0
    reservations: list[dict[str, Any]] = field(default_factory=list)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/cve-id", response_model=None)
        async def reserve(request: Request) -> dict[str, Any] | Response:
            self.headers.append(dict(request.headers))
            self.reservations.append(dict(request.query_params))
            await asyncio.sleep(self.reserve_delay_seconds)
            if self.reserve_answers:
                answer = self.reserve_answers.pop(0)
                return answer if isinstance(answer, Response) else JSONResponse(answer)
            year = request.query_params["cve_year"]
            number = 1000 + len(self.reservations) - 1
            return {"cve_ids": [{"cve_id": f"CVE-{year}-{number}", "state": "RESERVED"}]}

        @app.post("/api/cve/{cve_id}/cna")
        async def publish(cve_id: str, request: Request) -> JSONResponse:
            if self.fail_publish:
                return JSONResponse(
                    {"error": "BAD_INPUT", "message": "affected[0].product is not allowed"},
                    status_code=400,
                )
            self.published[cve_id] = (await request.json())["cnaContainer"]
            return JSONResponse({"message": f"{cve_id} was successfully published."})

        return app


@pytest.fixture
def cve_services() -> Iterator[tuple[CveServicesDouble, str]]:
    double = CveServicesDouble()
    with serving(double.app()) as base:
        yield double, f"{base}/api/"


@pytest.fixture
def cna(settings: Settings, cve_services: tuple[CveServicesDouble, str]) -> Settings:
    """Settings of a CNA whose CVE Services is the double."""
    return settings.model_copy(
        update={
            "cna_org_id": ORG,
            "cve_services_url": cve_services[1],
            "cve_services_user": "cna@example.com",
            "cve_services_api_key": SecretStr("k-123"),
        }
    )


@pytest.fixture
async def world(db: Database, fleet: dict[str, Any], settings: Settings) -> World:
    """A storage case customers must act on (a CVE is needed), mitigated."""
    made: World = await world_maker(db, fleet, settings)()
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET customer_action_required = true, cwe_id = 284 WHERE id = :c"),
            {"c": made.case_id},
        )
        await session.commit()
    return made


def _client(db: Database, settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def comms(db: Database, make_user: MakeUser) -> dict[str, str]:
    return bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))


@pytest.fixture
async def second(db: Database, make_user: MakeUser) -> dict[str, str]:
    """Another communications owner: the second pair of eyes."""
    return bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))


async def _notify(
    client: httpx.AsyncClient, writer: dict[str, str], approver: dict[str, str], case_id: int
) -> None:
    url = f"/api/cases/{case_id}/advisory"
    await client.put(url, json=draft(action_required=True, action_steps="Rotate."), headers=writer)
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    assert (await client.post(f"{url}/send", headers=writer)).status_code == 200


async def _milestones(db: Database, case_id: int) -> set[str]:
    async with db.session() as session:
        rows = await session.scalars(
            text("SELECT milestone FROM case_milestones WHERE case_id = :c"), {"c": case_id}
        )
        return set(rows)


async def test_reserve_then_publish_only_once_every_rule_holds(
    db: Database,
    settings: Settings,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    second: dict[str, str],
    cve_services: tuple[CveServicesDouble, str],
) -> None:
    double, url = cve_services
    base = f"/api/cases/{world.case_id}/disclosure"
    no_credentials = settings.model_copy(update={"cna_org_id": ORG, "cve_services_url": url})
    async with _client(db, no_credentials) as client:
        missing = await client.post(f"{base}/reserve-cve", headers=comms)
        assert missing.status_code == 422 and "VULNOPS_CVE_SERVICES_USER" in missing.text
        dry = (await client.post(f"{base}/reserve-cve?dry_run=true", headers=comms)).json()
        assert dry["dry_run"] and dry["request"]["url"] == f"{url}cve-id"
        assert (await client.get(base, headers=comms)).json()["cve_id"] is None
    async with _client(db, cna) as client:
        reserved = await client.post(f"{base}/reserve-cve", headers=comms)
        assert reserved.status_code == 200, reserved.text
        cve_id = reserved.json()["cve_id"]
        assert cve_id == f"CVE-{datetime.now(UTC).year}-1000"
        assert double.headers[0]["cve-api-key"] == "k-123"
        assert double.reservations[0]["short_name"] == "vulnops"
        assert (await client.post(f"{base}/reserve-cve", headers=comms)).status_code == 409

        # Nothing is in place: every rule is named, and nothing reaches CVE Services.
        early = await client.post(f"{base}/publish-cve", headers=comms)
        assert early.status_code == 409
        assert early.json()["unmet"] == [
            "disclosure_approved",
            "customers_notified",
            "public_text_approved",
        ]
        dry = (await client.post(f"{base}/publish-cve?dry_run=true", headers=comms)).json()
        assert dry["dry_run"] and len(dry["refused"]) == 3
        await _notify(client, comms, second, world.case_id)
        await approve_text(db, cna, world.case_id)
        embargo = datetime.now(UTC) + timedelta(days=7)
        await disclose(db, cna, world.case_id, public_from=embargo)

        during = await client.post(f"{base}/publish-cve", headers=comms)
        assert during.status_code == 409 and during.json()["unmet"] == ["embargo_ended"]
        assert "under embargo until" in during.json()["detail"]
        assert double.published == {}
        scheduled = await client.post(
            f"{base}/publish-cve", json={"when_public": True}, headers=comms
        )
        assert scheduled.json()["scheduled_for"].startswith(embargo.isoformat()[:16])
        shown = (await client.get(base, headers=comms)).json()
        assert shown["cve_publish_requested_by"] and shown["cve_published_at"] is None
        assert "cve_published" not in await _milestones(db, world.case_id)

    # The scheduled job: nothing before the embargo ends; CVE Services refusing is tried
    # again; then published, as the person who asked, and the case has the milestone.
    async with db.session() as session:
        assert await publishing.due_publications(session, now=datetime.now(UTC)) == []
    after = embargo + timedelta(minutes=1)
    double.fail_publish = True
    async with db.session() as session:
        outcome = await publishing.publish_scheduled(
            session, case_id=world.case_id, settings=cna, now=after
        )
        await session.commit()
    assert outcome == "retry" and double.published == {}
    double.fail_publish = False
    async with db.session() as session:
        assert await publishing.due_publications(session, now=after) == [world.case_id]
        outcome = await publishing.publish_scheduled(
            session, case_id=world.case_id, settings=cna, now=after
        )
        await session.commit()
    assert outcome == "published"
    container = double.published[cve_id]
    assert container["tags"] == ["exclusively-hosted-service"]
    assert container["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-284"
    assert "cve_published" in await _milestones(db, world.case_id)
    async with _client(db, cna) as client:
        shown = (await client.get(base, headers=comms)).json()
        assert shown["cve_published_at"] is not None and shown["cve_publish_requested_by"] is None
        no_cve = await client.put(f"{base}/no-cve", json={"reason": "x"}, headers=comms)
        assert no_cve.status_code == 409
        again = await client.post(f"{base}/publish-cve", headers=comms)
        assert again.status_code == 409 and "was published" in again.json()["detail"]


async def test_an_answer_refusing_the_record_is_a_502_and_nothing_is_marked(
    db: Database,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    second: dict[str, str],
    cve_services: tuple[CveServicesDouble, str],
) -> None:
    double, _ = cve_services
    base = f"/api/cases/{world.case_id}/disclosure"
    async with _client(db, cna) as client:
        await client.post(f"{base}/reserve-cve", headers=comms)
        await _notify(client, comms, second, world.case_id)
        await approve_text(db, cna, world.case_id)
        await disclose(db, cna, world.case_id)
        double.fail_publish = True
        refused = await client.post(f"{base}/publish-cve", headers=comms)
        assert refused.status_code == 502
        assert "HTTP 400" in refused.json()["detail"] and "BAD_INPUT" in refused.json()["detail"]
        assert (await client.get(base, headers=comms)).json()["cve_published_at"] is None
        double.fail_publish = False
        published = await client.post(f"{base}/publish-cve", headers=comms)
        assert published.status_code == 200, published.text
    assert list(double.published) == [published.json()["cve_id"]]


async def _kept(db: Database, case_id: int) -> tuple[str | None, int]:
    """The case's CVE id as stored, and how many reservations its timeline records."""
    async with db.session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT cve_id FROM disclosures WHERE case_id = :c), "
                    "(SELECT count(*) FROM audit_events WHERE subject = :s "
                    "AND kind = 'disclosure.cve_reserved')"
                ),
                {"c": case_id, "s": f"case:{case_id}"},
            )
        ).one()
        return row[0], int(row[1])


@pytest.mark.parametrize(
    "answer",
    [
        {"cve_ids": [{"cve_id": "CVE-2026-" + "1" * 40, "state": "RESERVED"}]},
        {"cve_ids": [{"cve_id": "CVE-2026-1000\x00", "state": "RESERVED"}]},
        {"cve_ids": [{"cve_id": None, "state": "RESERVED"}]},
        {"cve_ids": [{"cve_id": "cve-2026-1000 ", "state": "RESERVED"}]},
        {"cve_ids": []},
        Response("<html>maintenance</html>", media_type="text/html"),
    ],
    ids=["too-long", "nul", "null", "not-a-cve-id", "no-ids", "not-json"],
)
async def test_a_reservation_answer_naming_no_cve_id_is_a_502_and_nothing_is_kept(
    db: Database,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    cve_services: tuple[CveServicesDouble, str],
    answer: Any,
) -> None:
    """An id too long for its column or with a NUL was a 500; a null one was kept as "None"."""
    double, _ = cve_services
    double.reserve_answers.append(answer)
    url = f"/api/cases/{world.case_id}/disclosure/reserve-cve"
    async with _client(db, cna) as client:
        refused = await client.post(url, headers=comms)
        assert refused.status_code == 502, refused.text
        assert "CVE Services answered" in refused.json()["detail"]
        assert await _kept(db, world.case_id) == (None, 0)
        reserved = await client.post(url, headers=comms)
        assert reserved.status_code == 200, reserved.text
    assert await _kept(db, world.case_id) == (reserved.json()["cve_id"], 1)


async def test_an_id_another_case_holds_is_a_409_and_nothing_is_kept(
    db: Database,
    fleet: dict[str, Any],
    settings: Settings,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    second: dict[str, str],
    cve_services: tuple[CveServicesDouble, str],
) -> None:
    """CVE Services answers an id we hold for another case: through the reservation and
    through a disclosure asked for with "reserve one now"."""
    double, _ = cve_services
    other: World = await world_maker(db, fleet, settings)()
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET customer_action_required = true WHERE id = :c"),
            {"c": other.case_id},
        )
        await session.commit()
    async with _client(db, cna) as client:
        held = (
            await client.post(f"/api/cases/{world.case_id}/disclosure/reserve-cve", headers=comms)
        ).json()["cve_id"]
        base = f"/api/cases/{other.case_id}/disclosure"
        double.reserve_answers.append({"cve_ids": [{"cve_id": held, "state": "RESERVED"}]})
        refused = await client.post(f"{base}/reserve-cve", headers=comms)
        assert refused.status_code == 409, refused.text
        assert f"{held}, which another case holds already" in refused.json()["detail"]
        assert await _kept(db, other.case_id) == (None, 0)

        await _notify(client, comms, second, other.case_id)
        await approve_text(db, cna, other.case_id)
        double.reserve_answers.append({"cve_ids": [{"cve_id": held, "state": "RESERVED"}]})
        asked = await client.post(base, json={"cve_choice": "reserve"}, headers=comms)
        assert asked.status_code == 409, asked.text
        assert "another case holds already" in asked.json()["detail"]
        shown = (await client.get(base, headers=comms)).json()
        assert shown["cve_id"] is None and shown["requested_by"] is None
    assert await _kept(db, other.case_id) == (None, 0)
    assert await _kept(db, world.case_id) == (held, 1)


async def test_two_reservations_at_once_keep_one_id_and_refuse_the_other(
    db: Database,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    cve_services: tuple[CveServicesDouble, str],
) -> None:
    """The case's first disclosure row was made by both requests: the second was a 500."""
    double, _ = cve_services
    double.reserve_delay_seconds = 0.3
    url = f"/api/cases/{world.case_id}/disclosure/reserve-cve"
    async with _client(db, cna) as client:
        answers = await asyncio.gather(*(client.post(url, headers=comms) for _ in range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 409], [
        answer.text for answer in answers
    ]
    [done] = [answer.json() for answer in answers if answer.status_code == 200]
    assert await _kept(db, world.case_id) == (done["cve_id"], 1)


async def test_no_cve_with_a_reason_wins_over_the_policy(
    db: Database, settings: Settings, world: World, comms: dict[str, str]
) -> None:
    base = f"/api/cases/{world.case_id}/disclosure"
    async with _client(db, settings) as client:
        assert (await client.get(base, headers=comms)).json()["cve"] is True
        marked = await client.put(
            f"{base}/no-cve", json={"reason": "only our own staff could reach it"}, headers=comms
        )
        assert marked.json()["cve"] is False
        assert marked.json()["reason"] == "marked as no CVE: only our own staff could reach it"
        refused = await client.post(f"{base}/reserve-cve?dry_run=true", headers=comms)
        assert refused.status_code == 409 and "no CVE" in refused.json()["detail"]
        cleared = await client.put(f"{base}/no-cve", json={"reason": None}, headers=comms)
        assert cleared.json()["cve"] is True


async def test_a_disclosure_is_asked_for_under_the_rules_and_approved_by_another(
    db: Database,
    settings: Settings,
    world: World,
    comms: dict[str, str],
    second: dict[str, str],
    make_user: MakeUser,
) -> None:
    base = f"/api/cases/{world.case_id}/disclosure"
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    async with _client(db, settings) as client:
        early = await client.post(base, json={}, headers=comms)
        assert early.status_code == 409
        assert early.json()["unmet"] == ["customers_notified", "public_text_approved", "cve_choice"]
        not_admin = await client.post(base, json={"override_reason": "press"}, headers=comms)
        assert not_admin.status_code == 409  # the text and the CVE choice cannot be overridden
        blank = await client.post(base, json={"override_reason": " "}, headers=admin)
        assert blank.status_code == 422 and "needs a reason" in blank.json()["detail"]
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        assert (
            await client.post(base, json={"public_from": past}, headers=admin)
        ).status_code == 422
        await _notify(client, comms, second, world.case_id)
        await approve_text(db, settings, world.case_id)
        choice = await client.post(base, json={}, headers=comms)
        assert choice.status_code == 409 and choice.json()["unmet"] == ["cve_choice"]
        assert "reserve one now" in choice.json()["detail"]
        no_reason = await client.post(base, json={"cve_choice": "without"}, headers=comms)
        assert no_reason.status_code == 422 and "without_cve_reason" in no_reason.text
        embargo = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        asked = await client.post(
            base,
            json={
                "public_from": embargo,
                "cve_choice": "without",
                "without_cve_reason": "the service is retired next week",
            },
            headers=comms,
        )
        assert asked.status_code == 200, asked.text
        assert asked.json()["disclosed_at"] is None and asked.json()["requested_by"]
        own = await client.post(f"{base}/approve", headers=comms)
        assert own.status_code == 403 and "four eyes" in own.json()["detail"]
        done = await client.post(f"{base}/approve", json={"comment": "ok"}, headers=second)
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["disclosed_at"] is not None and body["public"] is False
        assert body["public_from"].startswith(embargo[:16])
        assert body["without_cve_reason"] == "the service is retired next week"
        case = (await client.get(f"/api/cases/{world.case_id}", headers=comms)).json()
        # Approved for next week: under embargo, not disclosed yet.
        assert case["state"] == "notified"
        assert (await client.post(base, json={}, headers=comms)).status_code == 409
    # The embargo ends: the periodic job records "public", and the case is disclosed.
    async with db.session() as session:
        ended = await disclosing.embargoes_ended(
            session, settings=settings, now=datetime.now(UTC) + timedelta(days=8)
        )
        await session.commit()
        state = await session.scalar(
            text("SELECT state FROM cases WHERE id = :c"), {"c": world.case_id}
        )
    assert ended == 1 and state == "disclosed"
    assert {"disclosure_approved", "public"} <= await _milestones(db, world.case_id)


async def test_a_rejected_disclosure_ends_with_its_comment_and_can_be_asked_again(
    db: Database, settings: Settings, world: World, comms: dict[str, str], second: dict[str, str]
) -> None:
    base = f"/api/cases/{world.case_id}/disclosure"
    async with _client(db, settings) as client:
        await _notify(client, comms, second, world.case_id)
        await approve_text(db, settings, world.case_id)
        asked = {"cve_choice": "without", "without_cve_reason": "internal tooling only"}
        assert (await client.post(base, json=asked, headers=comms)).status_code == 200
        no_comment = await client.post(f"{base}/reject", json={}, headers=second)
        assert no_comment.status_code == 422
        rejected = await client.post(
            f"{base}/reject", json={"comment": "wait for the partner"}, headers=second
        )
        assert rejected.json()["requested_by"] is None and rejected.json()["disclosed_at"] is None
        assert (await client.post(f"{base}/approve", headers=second)).status_code == 409
        assert (await client.post(base, json=asked, headers=comms)).status_code == 200


async def test_an_admin_may_override_the_notification_rule_with_a_reason(
    db: Database, settings: Settings, world: World, make_user: MakeUser, second: dict[str, str]
) -> None:
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    base = f"/api/cases/{world.case_id}/disclosure"
    await approve_text(db, settings, world.case_id)
    async with _client(db, settings) as client:
        body = {
            "override_reason": "the researcher published it today",
            "cve_choice": "without",
            "without_cve_reason": "a duplicate of a vendor CVE",
        }
        done = await client.post(base, json=body, headers=admin)
        assert done.status_code == 200, done.text
        approved = await client.post(f"{base}/approve", headers=second)
        assert approved.json()["public"] is True
    async with db.session() as session:
        overridden = (
            await session.execute(
                text(
                    "SELECT data->'rules', data->>'reason' FROM audit_events "
                    "WHERE kind = 'disclosure.rule_overridden'"
                )
            )
        ).all()
    assert overridden == [(["customers_notified"], "the researcher published it today")]


async def test_no_route_command_or_job_publishes_a_cve_during_the_embargo(
    db: Database,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    second: dict[str, str],
    make_user: MakeUser,
    cve_services: tuple[CveServicesDouble, str],
    conninfo: str,
    tmp_path: Path,
) -> None:
    """Everything holds but the embargo (30 days ahead). Every route of the app is called as
    an administrator with the case's id in its path; the page's form, the command line and
    the scheduled job are tried too. CVE Services receives nothing."""
    double, url = cve_services
    async with _client(db, cna) as client:
        await client.post(f"/api/cases/{world.case_id}/disclosure/reserve-cve", headers=comms)
        await _notify(client, comms, second, world.case_id)
    await approve_text(db, cna, world.case_id)
    await disclose(db, cna, world.case_id, public_from=datetime.now(UTC) + timedelta(days=30))
    admin = await make_user(Role.ADMIN)
    headers = bearer(await api_token(db, admin))
    app = create_app(cna, database=db)
    walked = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for endpoint in endpoints(app.routes):
            if "{" not in endpoint.path:
                continue
            path = re.sub(r"\{[^}]+\}", str(world.case_id), endpoint.path)
            for method in sorted(endpoint.methods & {"POST", "PUT", "PATCH", "DELETE"}):
                body = {"json": {}} if path.startswith("/api/") else {"data": {}}
                await client.request(method, path, headers=headers, **body)  # type: ignore[arg-type]
                walked += 1
        # The case page's form, as the administrator signed in.
        await sign_in(client, admin.email)
        token = await csrf(client, f"/cases/{world.case_id}")
        await client.post(
            f"/cases/{world.case_id}/disclosure/publish-cve", data={"csrftoken": token}
        )
        page = await client.get(f"/cases/{world.case_id}")
        assert "under embargo until" in page.text
    assert walked >= 40
    env = {
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_DATA_DIR": str(tmp_path),
        "VULNOPS_CNA_ORG_ID": ORG,
        "VULNOPS_CVE_SERVICES_URL": url,
        "VULNOPS_CVE_SERVICES_USER": "cna@example.com",
        "VULNOPS_CVE_SERVICES_API_KEY": "k-123",
    }
    async with db.session() as session:
        tracking = await session.scalar(
            text("SELECT tracking_id FROM cases WHERE id = :c"), {"c": world.case_id}
        )
    cli = await acli("case", "publish-cve", str(tracking), env=env)
    assert cli.exit_code == 1 and "embargo" in cli.stderr
    async with db.session() as session:
        assert await publishing.due_publications(session, now=datetime.now(UTC)) == []
        outcome = await publishing.publish_scheduled(
            session, case_id=world.case_id, settings=cna, now=datetime.now(UTC)
        )
    assert outcome == "nothing to do"
    assert double.published == {}
    assert "cve_published" not in await _milestones(db, world.case_id)


async def test_an_embargo_is_ended_early_only_by_an_administrator_with_a_reason(
    db: Database,
    cna: Settings,
    world: World,
    comms: dict[str, str],
    second: dict[str, str],
    make_user: MakeUser,
    cve_services: tuple[CveServicesDouble, str],
) -> None:
    double, _ = cve_services
    admin = bearer(await api_token(db, await make_user(Role.ADMIN)))
    base = f"/api/cases/{world.case_id}/disclosure"
    async with _client(db, cna) as client:
        await client.post(f"{base}/reserve-cve", headers=comms)
        await _notify(client, comms, second, world.case_id)
        await approve_text(db, cna, world.case_id)
        await disclose(db, cna, world.case_id, public_from=datetime.now(UTC) + timedelta(days=9))
        # Not even an administrator's override publishes during the embargo.
        forced = await client.post(
            f"{base}/publish-cve", json={"override_reason": "urgent"}, headers=admin
        )
        assert forced.status_code == 409 and forced.json()["unmet"] == ["embargo_ended"]
        by_comms = await client.post(f"{base}/end-embargo", json={"reason": "x"}, headers=comms)
        assert by_comms.status_code == 403
        blank = await client.post(f"{base}/end-embargo", json={"reason": ""}, headers=admin)
        assert blank.status_code == 422
        ended = await client.post(
            f"{base}/end-embargo",
            json={"reason": "the researcher published it today"},
            headers=admin,
        )
        assert ended.status_code == 200 and ended.json()["public"] is True
        published = await client.post(f"{base}/publish-cve", headers=comms)
        assert published.status_code == 200, published.text
    assert list(double.published) == [published.json()["cve_id"]]
    assert {"public", "cve_published"} <= await _milestones(db, world.case_id)
    async with db.session() as session:
        reason = await session.scalar(
            text("SELECT data->>'reason' FROM audit_events WHERE kind = 'disclosure.embargo_ended'")
        )
    assert reason == "the researcher published it today"


async def test_a_naive_date_is_a_422_and_only_those_who_tell_customers_waive_the_notice(
    db: Database, settings: Settings, world: World, comms: dict[str, str], make_user: MakeUser
) -> None:
    engineer = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    async with _client(db, settings) as client:
        naive = await client.post(
            f"/api/cases/{world.case_id}/disclosure",
            json={"public_from": "2030-01-01T00:00:00"},
            headers=comms,
        )
        assert naive.status_code == 422 and "timezone" in naive.text
        move = f"/api/cases/{world.case_id}/transition"
        body = {"state": "notified", "reason": "nobody to tell"}
        assert (await client.post(move, json=body, headers=engineer)).status_code == 403
        # This case's customers must act: only the advisory tells them.
        must_act = await client.post(move, json=body, headers=responder)
        assert must_act.status_code == 409 and "customers must act" in must_act.json()["detail"]
