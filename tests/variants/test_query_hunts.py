"""The other strategies: another tool's SARIF log uploaded as a hunt (the shared samples), a
component hunt and a configuration hunt over the demo fleet checked against a direct SQL count,
and a history hunt that finds earlier cases of the weakness and of its descendants — never a
restricted one its viewer is not on the team of."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer, run_jobs_until, sample
from variants.conftest import Opener, hunt_state
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.demo import DemoContext
from vulnops.fleet.demo import seed_fleet
from vulnops.settings import Settings


async def _finished(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    hunt_id: int,
    headers: dict[str, str],
) -> list[dict[str, object]]:
    async def done() -> bool:
        return await hunt_state(client, hunt_id, headers) == "finished"

    await run_jobs_until(db, settings, done, within=60)
    page = await client.get(f"/api/hunts/{hunt_id}/findings?per_page=200", headers=headers)
    items: list[dict[str, object]] = page.json()["items"]
    return items


@pytest.mark.parametrize(
    "name", ["sarif/codeql-action-valid-sarif.sarif", "sarif/semgrep-dataflow-traces.sarif"]
)
async def test_an_uploaded_sarif_log_is_a_finished_hunt_of_its_findings(
    client: httpx.AsyncClient, open_case: Opener, hunter: dict[str, str], name: str
) -> None:
    path = sample(name)
    document = json.loads(path.read_text())
    expected = set()
    for run in document["runs"]:
        for result in run.get("results") or []:
            physical = result["locations"][0]["physicalLocation"]
            line = physical.get("region", {}).get("startLine")
            uri = physical["artifactLocation"]["uri"]
            expected.add((result["ruleId"], f"{uri}:{line}" if line else uri))
    case_id = await open_case()
    uploaded = await client.post(
        f"/api/cases/{case_id}/hunts/sarif",
        files={"sarif": (path.name, path.read_bytes(), "application/json")},
        headers=hunter,
    )
    assert uploaded.status_code == 201, uploaded.text
    hunt = uploaded.json()
    assert hunt["strategy"] == "sarif" and hunt["state"] == "finished"
    found = await client.get(f"/api/hunts/{hunt['id']}/findings", headers=hunter)
    assert {(f["rule_id"], f["location"]) for f in found.json()["items"]} == expected
    assert all(f["state"] == "candidate" for f in found.json()["items"])


async def test_a_log_that_is_not_sarif_is_refused_whole(
    client: httpx.AsyncClient, open_case: Opener, hunter: dict[str, str]
) -> None:
    case_id = await open_case()
    refused = await client.post(
        f"/api/cases/{case_id}/hunts/sarif",
        files={"sarif": ("x.sarif", b'{"version": "2.1.0", "runs": [{}]}', "application/json")},
        headers=hunter,
    )
    assert refused.status_code == 422, refused.text
    assert (await client.get(f"/api/cases/{case_id}/hunts", headers=hunter)).json() == []


@pytest.fixture
async def demo_fleet(db: Database) -> None:
    async with db.session() as session:
        await seed_fleet(session, DemoContext(now=datetime.now(UTC), rng=random.Random(1)))
        await session.commit()


async def test_component_and_configuration_hunts_match_a_direct_count(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    demo_fleet: None,
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    case_id = await open_case("log4j JNDI lookup", cwe_id=917)
    purl, version_range = "pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/<2.17.1"
    started = await client.post(
        f"/api/cases/{case_id}/hunts",
        json={"strategy": "components", "purl": purl, "range": version_range},
        headers=hunter,
    )
    assert started.status_code == 201, started.text
    components = await _finished(client, db, settings, started.json()["id"], hunter)
    async with db.session() as session:
        expected = {
            (row.key, row.version)
            for row in await session.execute(
                text(
                    "SELECT DISTINCT s.key, sv.version FROM components c "
                    "JOIN service_versions sv ON sv.id = c.service_version_id "
                    "JOIN services s ON s.id = sv.service_id "
                    "WHERE c.purl_type = 'maven' AND c.namespace = 'org.apache.logging.log4j' "
                    "AND c.name = 'log4j-core' AND string_to_array(c.version, '.')::int[] "
                    "< ARRAY[2, 17, 1]"
                )
            )
        }
    assert expected, "the demo fleet has old log4j builds"
    assert {tuple(str(f["location"]).split("@")) for f in components} == expected

    tags = await client.post(
        f"/api/cases/{case_id}/hunts",
        json={"strategy": "configuration", "tags_any": ["public-endpoint"]},
        headers=hunter,
    )
    assert tags.status_code == 201, tags.text
    configuration = await _finished(client, db, settings, tags.json()["id"], hunter)
    async with db.session() as session:
        counted = {
            row.key: (row.resources, row.tenants)
            for row in await session.execute(
                text(
                    "SELECT s.key, count(*) AS resources, count(DISTINCT r.tenant_id) AS tenants "
                    "FROM resources r JOIN deployment_units u ON u.id = r.unit_id "
                    "JOIN services s ON s.id = u.service_id "
                    "WHERE 'public-endpoint' = ANY(r.tags) GROUP BY s.key"
                )
            )
        }
    assert counted
    assert {
        str(f["service"]): (f["detail"]["resources"], f["detail"]["tenants"])  # type: ignore[index]
        for f in configuration
    } == counted


async def test_a_bad_component_or_an_empty_predicate_is_refused(
    client: httpx.AsyncClient, open_case: Opener, hunter: dict[str, str]
) -> None:
    case_id = await open_case()
    for body, words in (
        ({"strategy": "components"}, "purl: give the package URL"),
        ({"strategy": "components", "purl": "log4j"}, "purl"),
        ({"strategy": "components", "purl": "pkg:maven/a/b", "range": "vers:maven/<<"}, "range"),
        ({"strategy": "configuration"}, "tags_all: give at least one tag"),
        ({"strategy": "history", "cwe_id": 1000}, "is not a weakness"),
    ):
        refused = await client.post(f"/api/cases/{case_id}/hunts", json=body, headers=hunter)
        assert refused.status_code == 422, (body, refused.text)
        assert words in refused.json()["detail"], (body, refused.text)
    assert (await client.get(f"/api/cases/{case_id}/hunts", headers=hunter)).json() == []


async def test_a_history_hunt_finds_descendants_and_hides_restricted_cases(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    insider = await make_user(Role.RESPONDER)
    outsider = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    case_id = await open_case("Proxy reaches internal hosts", cwe_id=441)
    ssrf = await open_case("SSRF in webhooks", cwe_id=918)  # 918 is a child of 441
    secret = await open_case(
        "SSRF in the metadata proxy", cwe_id=918, restricted=True, owner_id=insider.id
    )
    await open_case("XSS in the console", cwe_id=79)
    started = await client.post(
        f"/api/cases/{case_id}/hunts", json={"strategy": "history"}, headers=hunter
    )
    assert started.status_code == 201, started.text
    assert started.json()["params"] == {"cwe_id": 441}
    await _finished(client, db, settings, started.json()["id"], hunter)
    insider_view = bearer(await api_token(db, insider))
    for headers, expected in ((insider_view, {ssrf, secret}), (outsider, {ssrf})):
        page = await client.get(f"/api/hunts/{started.json()['id']}/findings", headers=headers)
        assert {f["about_case_id"] for f in page.json()["items"]} == expected
        assert page.json()["total"] == len(expected)
