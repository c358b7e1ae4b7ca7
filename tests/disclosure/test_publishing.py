"""Reserving and publishing a CVE through a local server that answers the CVE Services
endpoints cvelib calls (the real service is not reachable here), and the disclosure itself:
asked for by one person, approved by another, never before the customers were told, never with
its text missing — and a CVE never published during the embargo, by any route, the command
line or the scheduled job."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from disclosure.cve_peer import ORG, CveServicesDouble
from disclosure.flows import api_client, approve_text, disclose, notify_customers
from helpers import MakeUser, acli, api_token, bearer, csrf, sign_in
from notify.notify_world import World
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.disclosure import disclosing, publishing
from vulnops.settings import Settings
from vulnops.web.app import create_app
from vulnops.web.routes import endpoints


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
    async with api_client(db, no_credentials) as client:
        missing = await client.post(f"{base}/reserve-cve", headers=comms)
        assert missing.status_code == 422 and "VULNOPS_CVE_SERVICES_USER" in missing.text
        dry = (await client.post(f"{base}/reserve-cve?dry_run=true", headers=comms)).json()
        assert dry["dry_run"] and dry["request"]["url"] == f"{url}cve-id"
        assert (await client.get(base, headers=comms)).json()["cve_id"] is None
    async with api_client(db, cna) as client:
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
        await notify_customers(client, comms, second, world.case_id)
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
    async with api_client(db, cna) as client:
        shown = (await client.get(base, headers=comms)).json()
        assert shown["cve_published_at"] is not None and shown["cve_publish_requested_by"] is None
        no_cve = await client.put(f"{base}/no-cve", json={"reason": "x"}, headers=comms)
        assert no_cve.status_code == 409
        again = await client.post(f"{base}/publish-cve", headers=comms)
        assert again.status_code == 409 and "was published" in again.json()["detail"]


async def test_no_cve_with_a_reason_wins_over_the_policy(
    db: Database, settings: Settings, world: World, comms: dict[str, str]
) -> None:
    base = f"/api/cases/{world.case_id}/disclosure"
    async with api_client(db, settings) as client:
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
    async with api_client(db, settings) as client:
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
        await notify_customers(client, comms, second, world.case_id)
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
    async with api_client(db, settings) as client:
        await notify_customers(client, comms, second, world.case_id)
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
    async with api_client(db, settings) as client:
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
    async with api_client(db, cna) as client:
        await client.post(f"/api/cases/{world.case_id}/disclosure/reserve-cve", headers=comms)
        await notify_customers(client, comms, second, world.case_id)
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
    async with api_client(db, cna) as client:
        await client.post(f"{base}/reserve-cve", headers=comms)
        await notify_customers(client, comms, second, world.case_id)
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
    async with api_client(db, settings) as client:
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
