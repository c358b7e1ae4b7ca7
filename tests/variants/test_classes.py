"""From a finding to a closed class that stays closed: a component hunt's finding becomes a
variant case (linked, restricted like its parent, its team inherited); the class refuses to
close while a variant is open or before a structural improvement is done; once closed, its
guard opens a regression case when a new SBOM brings back a vulnerable range — once. Links to
itself or in a cycle, a duplicate that one fix would not have fixed, and an important case
closed without its root cause are each a clear answer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select, text, update

from helpers import MakeUser, api_token, bearer, run_jobs_until
from variants.conftest import Opener, hunt_state
from vulnops.auth.roles import Role
from vulnops.cases.models import Case, CaseMember
from vulnops.db.database import Database
from vulnops.fleet import importer
from vulnops.settings import Settings
from vulnops.variants import guards, triage
from vulnops.variants.models import CaseLink

REQUESTS = "pkg:pypi/requests"
RANGE = "vers:pypi/<2.31.0"


def _sbom(version: str) -> str:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "components": [
                {
                    "type": "library",
                    "name": "requests",
                    "version": version,
                    "purl": f"{REQUESTS}@{version}",
                }
            ],
        }
    )


async def _import(db: Database, service: str, version: str, requests_version: str) -> None:
    async with db.session() as session:
        await importer.import_bundle(
            session,
            actor="test",
            sboms=[
                importer.SbomIn(
                    service=service, version=version, text=_sbom(requests_version), source="t"
                )
            ],
        )
        await session.commit()


async def _mitigate(client: httpx.AsyncClient, case_id: int, headers: dict[str, str]) -> None:
    moved = await client.post(
        f"/api/cases/{case_id}/transition",
        json={"state": "mitigated", "reason": "the egress proxy blocks it"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text


async def test_a_variant_case_a_closed_class_and_its_guard(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    services: dict[str, int],
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    owner = await make_user(Role.ENGINEER)
    member = await make_user(Role.RESPONDER)
    owner_token = bearer(await api_token(db, owner))
    outsider = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    await _import(db, "storage", "1.0", "2.30.0")
    parent = await open_case(restricted=True, owner_id=owner.id)
    async with db.session() as session:
        session.add(CaseMember(case_id=parent, user_id=member.id, added_by="test"))
        await session.commit()
    started = await client.post(
        f"/api/cases/{parent}/hunts",
        json={"strategy": "components", "purl": REQUESTS, "range": RANGE},
        headers=owner_token,
    )
    assert started.status_code == 201, started.text
    hunt_id = started.json()["id"]
    assert (await client.get(f"/api/hunts/{hunt_id}", headers=outsider)).status_code == 404

    async def done() -> bool:
        return await hunt_state(client, hunt_id, owner_token) == "finished"

    await run_jobs_until(db, settings, done, within=60)
    [finding] = (await client.get(f"/api/hunts/{hunt_id}/findings", headers=owner_token)).json()[
        "items"
    ]
    assert finding["location"] == "storage@1.0"
    assert (await client.get(f"/api/hunts/{hunt_id}/findings", headers=outsider)).status_code == 404
    decided = await client.post(
        f"/api/findings/{finding['id']}/decision",
        json={"decision": "variant", "reason": "the same unchecked fetch"},
        headers=owner_token,
    )
    assert decided.status_code == 200, decided.text
    child = decided.json()["decided_case_id"]
    again = await client.post(
        f"/api/findings/{finding['id']}/decision",
        json={"decision": "not_a_problem", "reason": "x"},
        headers=owner_token,
    )
    assert again.status_code == 409 and "already decided" in again.text
    async with db.session() as session:
        variant = await session.get(Case, child)
        assert variant is not None
        assert variant.restricted and variant.owner_id == owner.id and variant.cwe_id == 918
        assert variant.services == ["storage"]
        team = set(
            await session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == child))
        )
        assert member.id in team
        link = await session.get(CaseLink, (child, parent))
        assert link is not None and link.relation == "variant"
    assert (await client.get(f"/api/cases/{child}", headers=outsider)).status_code == 404

    shown = await client.get("/api/classes/918", headers=owner_token)
    assert shown.json()["state"] == "open" and shown.json()["open_variants"] == 1
    assert [a["cwe_id"] for a in shown.json()["ancestors"]] == [441, 610, 664]
    early = await client.post("/api/classes/918/close", json={}, headers=owner_token)
    assert early.status_code == 409 and "not fixed yet" in early.json()["detail"]
    assert "2 case(s)" in early.json()["detail"]
    for case_id in (parent, child):
        await _mitigate(client, case_id, owner_token)
    no_improvement = await client.post("/api/classes/918/close", json={}, headers=owner_token)
    assert no_improvement.status_code == 409 and "structural improvement" in no_improvement.text
    added = await client.post(
        f"/api/cases/{parent}/improvements",
        json={
            "action": "All outbound fetches through the egress proxy",
            "owner_id": owner.id,
            "due": str(date(2026, 1, 31)),
        },
        headers=owner_token,
    )
    assert added.status_code == 201, added.text
    assert added.json()["overdue"] is True
    done_now = await client.post(
        f"/api/improvements/{added.json()['id']}/done", headers=owner_token
    )
    assert done_now.status_code == 200 and done_now.json()["done_by"] == owner.email
    closed = await client.post(
        "/api/classes/918/close", json={"reason": "proxy"}, headers=owner_token
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed" and closed.json()["guards"] == 1

    await _import(db, "storage", "1.1", "2.31.0")  # fixed: no regression
    assert await guards.run_all(db, settings=settings, nightly=False) == 0
    await _import(db, "billing", "2.0", "2.28.0")  # the vulnerable range is back
    assert await guards.run_all(db, settings=settings, nightly=False) == 1
    assert await guards.run_all(db, settings=settings, nightly=True) == 0  # once
    async with db.session() as session:
        [regression] = list(
            await session.scalars(select(CaseLink).where(CaseLink.relation == "regression"))
        )
        assert regression.parent_id == parent
        case = await session.get(Case, regression.child_id)
        assert case is not None and case.services == ["billing"] and case.restricted
    reopened = await client.get("/api/classes/918", headers=owner_token)
    assert reopened.json()["state"] == "reopened"
    assert reopened.json()["open_variants"] == 1


async def test_links_refuse_itself_a_cycle_and_an_unseen_parent(
    client: httpx.AsyncClient,
    db: Database,
    make_user: MakeUser,
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    a, b, c = [await open_case(f"case {n}") for n in "abc"]
    secret = await open_case("secret", restricted=True, owner_id=(await make_user(Role.ADMIN)).id)
    itself = await client.post(
        f"/api/cases/{a}/links", json={"parent_id": a, "relation": "variant"}, headers=hunter
    )
    assert itself.status_code == 422 and "variant of itself" in itself.text
    for child, parent_id in ((b, a), (c, b)):
        linked = await client.post(
            f"/api/cases/{child}/links",
            json={"parent_id": parent_id, "relation": "variant"},
            headers=hunter,
        )
        assert linked.status_code == 201, linked.text
    cycle = await client.post(
        f"/api/cases/{a}/links", json={"parent_id": c, "relation": "bypass"}, headers=hunter
    )
    assert cycle.status_code == 409 and "cycle" in cycle.text
    twice = await client.post(
        f"/api/cases/{b}/links", json={"parent_id": a, "relation": "bypass"}, headers=hunter
    )
    assert twice.status_code == 409
    hidden = await client.post(
        f"/api/cases/{a}/links", json={"parent_id": secret, "relation": "variant"}, headers=hunter
    )
    assert hidden.status_code == 422 and f"no case {secret}" in hidden.text
    related = (await client.get(f"/api/cases/{b}/links", headers=hunter)).json()
    assert [p["case_id"] for p in related["parents"]] == [a]
    assert [ch["case_id"] for ch in related["children"]] == [c]


async def test_a_duplicate_needs_the_one_fix_answer(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    first = await open_case("SSRF in importer")
    later = await open_case("SSRF in previews")
    hunt = await client.post(
        f"/api/cases/{first}/hunts", json={"strategy": "history"}, headers=hunter
    )

    async def done() -> bool:
        return await hunt_state(client, hunt.json()["id"], hunter) == "finished"

    await run_jobs_until(db, settings, done)
    [finding] = (
        await client.get(f"/api/hunts/{hunt.json()['id']}/findings", headers=hunter)
    ).json()["items"]
    url = f"/api/findings/{finding['id']}/decision"
    for body, words in (
        ({"decision": "duplicate"}, "duplicate_of: name the case"),
        ({"decision": "duplicate", "duplicate_of": later}, "would the first fix have fixed"),
        (
            {"decision": "duplicate", "duplicate_of": later, "one_fix_fixes_both": False},
            "is a variant, not a duplicate",
        ),
        ({"decision": "not_a_problem"}, "reason: say why"),
    ):
        refused = await client.post(url, json=body, headers=hunter)
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text
    ok = await client.post(
        url,
        json={"decision": "duplicate", "duplicate_of": later, "one_fix_fixes_both": True},
        headers=hunter,
    )
    assert ok.status_code == 200 and ok.json()["state"] == "duplicate"
    assert ok.json()["decided_case_id"] == later


async def test_an_important_case_is_not_closed_without_its_root_cause(
    client: httpx.AsyncClient, db: Database, open_case: Opener, make_user: MakeUser
) -> None:
    hunter = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    case_id = await open_case(cwe_id=None)
    async with db.session() as session:
        await session.execute(update(Case).where(Case.id == case_id).values(rating="important"))
        await session.commit()
    await _mitigate(client, case_id, hunter)
    told = await client.post(
        f"/api/cases/{case_id}/transition",
        json={"state": "notified", "reason": "no customer runs the importer"},
        headers=hunter,
    )
    assert told.status_code == 200, told.text
    close = {"state": "closed", "reason": "fixed"}
    refused = await client.post(f"/api/cases/{case_id}/transition", json=close, headers=hunter)
    assert refused.status_code == 409, refused.text
    assert "missing: the weakness and the root cause in words" in refused.json()["detail"]
    written = await client.put(
        f"/api/cases/{case_id}/root-cause",
        json={"cwe_id": 918, "cause": "The importer fetched any URL.", "introduced_ref": "a1b2c3"},
        headers=hunter,
    )
    assert written.status_code == 200, written.text
    assert written.json()["weakness"]["abstraction"] == "base"
    closed = await client.post(f"/api/cases/{case_id}/transition", json=close, headers=hunter)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    category = await client.put(
        f"/api/cases/{case_id}/root-cause", json={"cwe_id": 1000}, headers=hunter
    )
    assert category.status_code == 422 and "not a weakness" in category.text
    moderate = await open_case("low", cwe_id=None)
    async with db.session() as session:
        await session.execute(update(Case).where(Case.id == moderate).values(rating="moderate"))
        await session.commit()
    await _mitigate(client, moderate, hunter)
    await client.post(
        f"/api/cases/{moderate}/transition",
        json={"state": "notified", "reason": "none"},
        headers=hunter,
    )
    assert (
        await client.post(f"/api/cases/{moderate}/transition", json=close, headers=hunter)
    ).status_code == 200


async def test_the_top_weaknesses_count_what_the_viewer_may_see(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, open_case: Opener
) -> None:
    owner = await make_user(Role.RESPONDER)
    outsider = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    first = await open_case("XSS in the console", cwe_id=79, services=("console",))
    again = await open_case("XSS in the status page", cwe_id=79, services=("status",))
    hidden = await open_case("XSS in billing", cwe_id=79, restricted=True, owner_id=owner.id)
    await open_case("SSRF", cwe_id=918)
    async with db.session() as session:
        for case_id, started, mitigated in ((first, 10, 5), (again, 2, None), (hidden, 1, None)):
            await session.execute(
                text(
                    "UPDATE cases SET started_at = now() - make_interval(days => :s), "
                    "mitigated_at = now() - make_interval(days => :m) WHERE id = :c"
                ),
                {"c": case_id, "s": started, "m": mitigated},
            )
        await session.commit()
    for headers, cases, services in ((outsider, 2, 2), (bearer(await api_token(db, owner)), 3, 3)):
        rows = (await client.get("/api/classes", headers=headers)).json()
        assert [r["cwe_id"] for r in rows] == [79, 918]
        xss = rows[0]
        assert (xss["cases"], xss["open_cases"], xss["services"]) == (cases, cases - 1, services)
        assert xss["median_days_to_fix"] == 5.0
        assert xss["recurrences"] == cases - 1  # reported after the class was first fixed
    by_recurrence = (await client.get("/api/classes?order=recurrence", headers=outsider)).json()
    assert by_recurrence[0]["cwe_id"] == 79
    assert (await client.get("/api/classes?order=soon", headers=outsider)).status_code == 422


async def test_what_is_not_fixed_is_named_only_to_who_may_see_it(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    owner = await make_user(Role.RESPONDER)
    await open_case("SSRF in the metadata proxy", restricted=True, owner_id=owner.id)
    refused = await client.post("/api/classes/918/close", json={}, headers=hunter)
    assert refused.status_code == 409
    assert "1 case(s) or variant(s) not fixed yet: 1 you may not see" in refused.text
    assert "CASE-" not in refused.json()["detail"]
    # A parent restricted by its critical rating (no one chose) gives a restricted variant.
    critical = await open_case("Critical SSRF")
    async with db.session() as session:
        parent = await session.get(Case, critical)
        assert parent is not None
        parent.restricted = True
        child = await triage.open_child(
            session,
            parent=parent,
            relation="variant",
            title="the same in previews",
            summary="",
            services=[],
            actor="test",
            settings=settings,
            now=datetime.now(UTC),
        )
        assert child.restricted
