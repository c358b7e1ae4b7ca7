"""Need-to-know cases: a restricted case exists only for its team. Every route of the app is
walked by a member of staff outside the team, with the restricted case (and its report and fix)
present: the routes that name them answer 404, and no answer of any list carries its tracking
id or its title. Its team sees it; an administrator gets in only by breaking the glass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpers import MakeUser, api_token, bearer, csrf, sign_in
from vulnops.audit.models import AuditEvent
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.bounty import decisions, programs
from vulnops.bounty.awards import Assessment
from vulnops.bounty.tables import load_table
from vulnops.cases.models import Case
from vulnops.db.database import Database
from vulnops.fleet.models import Service
from vulnops.mail.models import OutboundEmail
from vulnops.settings import Settings
from vulnops.web.app import create_app
from vulnops.web.routes import endpoints

TITLE = "Zebracorn token forgery in the quota service"
CASE_PARAMS = {"case_id", "report_id", "fix_id", "award_id", "dispute_id"}


@dataclass
class World:
    case: dict[str, Any]
    report_id: int
    fix_id: int
    award_id: int
    dispute_id: int
    owner: User
    team: dict[str, str]
    outsider: dict[str, str]
    admin: dict[str, str]
    admin_user: User


@pytest.fixture
async def world(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, fleet: dict[str, object]
) -> World:
    owner = await make_user(Role.RESPONDER)
    team = bearer(await api_token(db, owner))
    researcher = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    report = await client.post(
        "/api/reports",
        json={"title": TITLE, "description": "Forged tokens pass the quota check."},
        headers=researcher,
    )
    assert report.status_code == 201
    opened = await client.post(
        "/api/cases",
        json={
            "title": TITLE,
            "report_ids": [report.json()["id"]],
            "owner_id": owner.id,
            "restricted": True,
        },
        headers=team,
    )
    assert opened.status_code == 201, opened.text
    async with db.session() as session:
        service = await session.scalar(select(Service.key).limit(1))
    fix = await client.post(
        f"/api/cases/{opened.json()['id']}/fixes",
        json={"service": service, "version": "9.9.9"},
        headers=team,
    )
    assert fix.status_code == 201, fix.text
    drafted = await client.put(  # waits for a second person's approval: an approval row
        f"/api/cases/{opened.json()['id']}/public-text",
        json={"title": TITLE, "description": "Forged tokens passed the quota check."},
        headers=team,
    )
    assert drafted.status_code == 200, drafted.text
    admin_user = await make_user(Role.ADMIN)
    async with db.session() as session:  # the report's bounty award: as hidden as the case
        await programs.create_program(
            session,
            key="cloud",
            name="Cloud",
            table=load_table(),
            scope=programs.Scope(),
            starts_at=datetime(2020, 1, 1, tzinfo=UTC),
            actor="lead@example.com",
        )
        award = await decisions.propose(
            session,
            report_id=report.json()["id"],
            actor=owner.email,
            settings=Settings(),
            assessment=Assessment("spoofing", "important", "low"),
            now=datetime.now(UTC),
        )
        await session.commit()
    disputed = await client.post(  # the reporter disputes it: the dispute is as hidden too
        f"/api/bounty/me/reports/{report.json()['id']}/dispute",
        json={"reason": "It reaches other tenants."},
        headers=researcher,
    )
    assert disputed.status_code == 201, disputed.text
    return World(
        case=opened.json(),
        report_id=report.json()["id"],
        fix_id=fix.json()["id"],
        award_id=award.id,
        dispute_id=disputed.json()["id"],
        owner=owner,
        team=team,
        outsider=bearer(await api_token(db, await make_user(Role.RESPONDER))),
        admin=bearer(await api_token(db, admin_user)),
        admin_user=admin_user,
    )


async def test_every_route_hides_a_restricted_case_from_staff_outside_its_team(
    world: World, db: Database, settings: Settings
) -> None:
    ids = {
        "case_id": world.case["id"],
        "report_id": world.report_id,
        "fix_id": world.fix_id,
        "award_id": world.award_id,
        "dispute_id": world.dispute_id,
    }
    app = create_app(settings, database=db)
    leaks, walked, named = [], 0, 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for caller in (world.outsider, world.admin):
            for endpoint in endpoints(app.routes):
                params = set(re.findall(r"\{([a-z_]+)", endpoint.path))
                if params - CASE_PARAMS:
                    continue  # names something else too (a version, a suite, a user…)
                path = re.sub(
                    r"\{([a-z_]+)(:int)?\}", lambda m: str(ids.get(m.group(1), 0)), endpoint.path
                )
                for method in sorted(endpoint.methods - {"HEAD"}):
                    if not params and method != "GET":
                        continue
                    body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
                    response = await client.request(method, path, headers=caller, **body)  # type: ignore[arg-type]
                    walked += 1
                    if params:
                        named += 1
                        if response.status_code != 404:
                            leaks.append(f"{method} {path}: {response.status_code}")
                    elif world.case["tracking_id"] in response.text or TITLE in response.text:
                        leaks.append(f"{method} {path} shows the case")
    assert not leaks, "\n".join(leaks)
    assert named >= 40
    assert walked >= 150


async def test_the_team_sees_it_in_lists_searches_and_pages(
    client: httpx.AsyncClient, world: World
) -> None:
    listed = (await client.get("/api/cases", headers=world.team)).json()
    assert [c["tracking_id"] for c in listed["items"]] == [world.case["tracking_id"]]
    found = (await client.get("/api/cases?q=zebracorn", headers=world.team)).json()
    assert found["total"] == 1
    assert (await client.get(f"/api/cases/{world.case['id']}", headers=world.team)).json()[
        "restricted"
    ] is True
    outsider = (await client.get("/api/cases?q=zebracorn", headers=world.outsider)).json()
    assert outsider["total"] == 0
    reports = (await client.get("/api/reports", headers=world.outsider)).json()
    assert world.report_id not in [r["id"] for r in reports["items"]]


async def test_adding_a_member_lets_them_in_and_opening_it_lets_everyone_in(
    client: httpx.AsyncClient, world: World, db: Database, make_user: MakeUser
) -> None:
    member = await make_user(Role.ENGINEER)
    member_token = bearer(await api_token(db, member))
    url = f"/api/cases/{world.case['id']}"
    assert (await client.get(url, headers=member_token)).status_code == 404
    saved = await client.put(
        f"{url}/team", json={"restricted": True, "members": [member.id]}, headers=world.team
    )
    assert saved.status_code == 200
    assert [(m["name"], m["role"]) for m in saved.json()["members"]][-1][1] == "member"
    assert (await client.get(url, headers=member_token)).status_code == 200
    assert (await client.get(url, headers=world.outsider)).status_code == 404
    await client.put(f"{url}/team", json={"restricted": False, "members": []}, headers=world.team)
    assert (await client.get(url, headers=world.outsider)).status_code == 200


async def test_a_team_change_that_locks_out_its_author_is_refused(
    client: httpx.AsyncClient, world: World, db: Database, make_user: MakeUser
) -> None:
    other = await make_user(Role.RESPONDER)
    await client.put(
        f"/api/cases/{world.case['id']}/team",
        json={"restricted": True, "members": [other.id]},
        headers=world.team,
    )
    other_token = bearer(await api_token(db, other))
    response = await client.put(
        f"/api/cases/{world.case['id']}/team",
        json={"restricted": True, "members": []},
        headers=other_token,
    )
    assert response.status_code == 422
    assert "add yourself" in response.json()["detail"]
    bad = await client.put(
        f"/api/cases/{world.case['id']}/team",
        json={"restricted": True, "members": [987654]},
        headers=world.team,
    )
    assert bad.status_code == 422
    assert "no user 987654" in bad.json()["detail"]


async def test_an_administrator_breaks_the_glass_with_a_reason_and_the_owner_is_told(
    client: httpx.AsyncClient, mail_client: httpx.AsyncClient, world: World, db: Database
) -> None:
    url = f"/api/cases/{world.case['id']}"
    assert (await client.get(url, headers=world.admin)).status_code == 404
    tracking = world.case["tracking_id"]
    short = await mail_client.post(
        "/api/cases/break-glass",
        json={"tracking_id": tracking, "reason": "because"},
        headers=world.admin,
    )
    assert short.status_code == 422
    refused = await mail_client.post(
        "/api/cases/break-glass",
        json={"tracking_id": tracking, "reason": "The owner is away and customers wait."},
        headers=world.outsider,
    )
    assert refused.status_code == 403
    opened = await mail_client.post(
        "/api/cases/break-glass",
        json={"tracking_id": tracking, "reason": "The owner is away and customers wait."},
        headers=world.admin,
    )
    assert opened.status_code == 200, opened.text
    assert (await client.get(url, headers=world.admin)).status_code == 200
    team = (await client.get(f"{url}/team", headers=world.team)).json()["members"]
    [entry] = [m for m in team if m["user_id"] == world.admin_user.id]
    assert (entry["role"], entry["reason"]) == (
        "break_glass",
        "The owner is away and customers wait.",
    )
    async with db.session() as session:
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.subject == f"case:{world.case['id']}",
                AuditEvent.kind == "case.glass_broken",
            )
        )
        email = await session.scalar(
            select(OutboundEmail).where(OutboundEmail.kind == "break_glass")
        )
    assert event is not None and event.actor == world.admin_user.email
    assert email is not None and email.to_address == world.owner.email
    assert "The owner is away" in email.body


async def test_a_duplicate_candidate_in_a_restricted_case_names_only_its_owner(
    client: httpx.AsyncClient, world: World, db: Database, make_user: MakeUser
) -> None:
    researcher = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    again = await client.post(
        "/api/reports",
        json={"title": TITLE, "description": "Same as before?"},
        headers=researcher,
    )
    url = f"/api/reports/{again.json()['id']}/duplicates"
    outsider = (await client.get(url, headers=world.outsider)).json()
    assert [c["kind"] for c in outsider] == ["restricted"]
    assert outsider[0]["restricted_owner"] == (world.owner.display_name or world.owner.email)
    assert TITLE not in str(outsider) and world.case["tracking_id"] not in str(outsider)
    team = (await client.get(url, headers=world.team)).json()
    assert {c["kind"] for c in team} == {"case", "report"}


async def test_an_outsider_cannot_merge_a_report_into_it_by_its_id(
    client: httpx.AsyncClient, world: World, db: Database, make_user: MakeUser
) -> None:
    researcher = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    report = await client.post(
        "/api/reports", json={"title": "Another thing", "description": "d"}, headers=researcher
    )
    merged = await client.post(
        f"/api/reports/{report.json()['id']}/merge",
        json={"case_id": world.case["id"]},
        headers=world.outsider,
    )
    assert merged.status_code == 404


async def test_a_critical_rating_restricts_a_case_unless_someone_chose(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    critical = {
        "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "impact": "cross_tenant_access",
        "data_sensitivity": "customer_content",
        "reason": "cross-tenant",
    }
    unchosen = (await client.post("/api/cases", json={"title": "Unchosen"}, headers=staff)).json()
    chosen = (
        await client.post(
            "/api/cases", json={"title": "Chosen", "restricted": False}, headers=staff
        )
    ).json()
    for case in (unchosen, chosen):
        rated = await client.put(f"/api/cases/{case['id']}/severity", json=critical, headers=staff)
        assert rated.status_code == 200, rated.text
        assert rated.json()["rating"] == "critical"
    async with db.session() as session:
        restricted = dict((await session.execute(select(Case.title, Case.restricted))).all())
    assert restricted == {"Unchosen": True, "Chosen": False}


async def test_the_case_page_shows_the_team_and_the_break_glass_form_works(
    mail_client: httpx.AsyncClient, world: World, make_user: MakeUser
) -> None:
    await sign_in(mail_client, world.admin_user.email)
    assert (await mail_client.get(f"/cases/{world.case['id']}")).status_code == 404
    token = await csrf(mail_client, "/cases/break-glass")
    done = await mail_client.post(
        "/cases/break-glass",
        data={
            "tracking_id": world.case["tracking_id"],
            "reason": "Incident commander asked for it.",
            "csrftoken": token,
        },
    )
    assert done.status_code == 303
    page = await mail_client.get(done.headers["location"])
    assert page.status_code == 200
    assert 'data-testid="restricted"' in page.text
    assert "break glass" in page.text and "Incident commander asked for it." in page.text


async def test_an_outsider_cannot_plan_or_start_a_rollout_of_its_fix_by_its_id(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in ("/api/rollouts/plan", "/api/rollouts"):
        response = await client.post(path, json={"fix_id": world.fix_id}, headers=world.outsider)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["detail"] == f"no fix {world.fix_id}"


async def test_its_report_cannot_be_named_to_open_another_case(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/cases",
        json={"title": "Probe", "report_ids": [world.report_id]},
        headers=world.outsider,
    )
    assert response.status_code == 404  # not 409 "already in a case", which would confirm it
    listed = await client.get("/api/approvals", headers=world.outsider)
    assert listed.json()["total"] == 0
    mine = await client.get("/api/approvals", headers=world.team)
    assert mine.json()["total"] == 1


async def test_a_restricted_cases_dispute_is_listed_to_its_team_only(
    client: httpx.AsyncClient, world: World
) -> None:
    team = (await client.get("/api/bounty/disputes", headers=world.team)).json()
    assert [d["id"] for d in team] == [world.dispute_id]
    assert (await client.get("/api/bounty/disputes", headers=world.outsider)).json() == []
