"""A code hunt runs the real Semgrep over repositories the test writes: two instances of an SSRF
pattern in different files of one service, none in the other, and a location that is not
there (listed, the others scanned); after one instance is fixed a second hunt finds the other.
A rule Semgrep cannot read is refused with Semgrep's own message."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import text

from helpers import run_jobs_until
from variants.conftest import SSRF_RULE, Opener, hunt_state, make_repositories
from vulnops.db.database import Database
from vulnops.fleet import repositories
from vulnops.settings import Settings
from vulnops.variants import hunts, running
from vulnops.variants.schemas import HuntIn


async def _register(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, *paths: str
) -> None:
    response = await client.put(
        f"/api/fleet/services/{key}/repositories", json={"locations": list(paths)}, headers=headers
    )
    assert response.status_code == 200, response.text


async def _hunt(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    case_id: int,
    headers: dict[str, str],
) -> dict[str, object]:
    started = await client.post(
        f"/api/cases/{case_id}/hunts", json={"strategy": "code", "rule": SSRF_RULE}, headers=headers
    )
    assert started.status_code == 201, started.text
    hunt_id = started.json()["id"]
    assert started.json()["state"] == "queued"

    async def finished() -> bool:
        return await hunt_state(client, hunt_id, headers) == "finished"

    await run_jobs_until(db, settings, finished, within=120)
    view = (await client.get(f"/api/hunts/{hunt_id}", headers=headers)).json()
    found = (await client.get(f"/api/hunts/{hunt_id}/findings", headers=headers)).json()
    return {"hunt": view, "findings": found["items"]}


async def test_semgrep_finds_exactly_the_two_instances_then_the_one_left(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    tmp_path: Path,
    services: dict[str, int],
    open_case: Opener,
    hunter: dict[str, str],
) -> None:
    repos = make_repositories(tmp_path)
    admin = hunter  # an engineer may manage the fleet and hunt
    missing = str(tmp_path / "gone")
    await _register(client, admin, "storage", str(repos["storage"]), missing)
    await _register(client, admin, "billing", str(repos["billing"]))
    case_id = await open_case()

    first = await _hunt(client, db, settings, case_id, hunter)
    places = sorted((f["service"], f["location"], f["rule_id"]) for f in first["findings"])
    assert places == [
        ("storage", f"{repos['storage']}/images/importer.py:6", "ssrf-user-url"),
        ("storage", f"{repos['storage']}/webhooks.py:8", "ssrf-user-url"),
    ]
    hunt = first["hunt"]
    assert isinstance(hunt, dict)
    states = {loc["location"]: (loc["state"], loc["findings"]) for loc in hunt["locations"]}
    assert states == {
        str(repos["storage"]): ("scanned", 2),
        str(repos["billing"]): ("scanned", 0),
        missing: ("missing", 0),
    }
    assert hunt["locations_done"] == hunt["locations_total"] == 3
    assert hunt["error"] == f"1 location(s) not scanned: {missing}"

    (repos["storage"] / "images" / "importer.py").write_text(
        "import requests\n\n\ndef import_image(url_id):\n    return requests.get(ALLOWED[url_id])\n"
    )
    second = await _hunt(client, db, settings, case_id, hunter)
    assert [(f["location"]) for f in second["findings"]] == [f"{repos['storage']}/webhooks.py:8"]


async def test_a_rule_semgrep_cannot_read_is_refused_with_its_message(
    client: httpx.AsyncClient, services: dict[str, int], open_case: Opener, hunter: dict[str, str]
) -> None:
    case_id = await open_case()
    broken = SSRF_RULE.replace("request.args[...])", "request.args[...]))")
    refused = await client.post(
        f"/api/cases/{case_id}/hunts", json={"strategy": "code", "rule": broken}, headers=hunter
    )
    assert refused.status_code == 422, refused.text
    assert "Semgrep cannot use it" in refused.text and "Invalid pattern for Python" in refused.text
    no_message = await client.post(
        f"/api/cases/{case_id}/hunts",
        json={
            "strategy": "code",
            "rule": SSRF_RULE.replace("  message: fetches a URL the caller chose\n", ""),
        },
        headers=hunter,
    )
    assert no_message.status_code == 422 and "message" in no_message.json()["detail"]
    listed = await client.get(f"/api/cases/{case_id}/hunts", headers=hunter)
    assert listed.json() == []  # nothing half-written


async def test_an_empty_strategy_or_no_repository_is_a_clear_answer(
    client: httpx.AsyncClient, services: dict[str, int], open_case: Opener, hunter: dict[str, str]
) -> None:
    case_id = await open_case()
    empty = await client.post(f"/api/cases/{case_id}/hunts", json={}, headers=hunter)
    assert empty.status_code == 422
    assert "strategy: choose one of code, sarif, components" in empty.json()["detail"]
    unknown = await client.post(
        f"/api/cases/{case_id}/hunts", json={"strategy": "guess"}, headers=hunter
    )
    assert unknown.status_code == 422
    nowhere = await client.post(
        f"/api/cases/{case_id}/hunts", json={"strategy": "code", "rule": SSRF_RULE}, headers=hunter
    )
    assert nowhere.status_code == 422
    assert "no service has a source repository registered" in nowhere.json()["detail"]
    relative = await client.put(
        "/api/fleet/services/storage/repositories",
        json={"locations": ["src/storage"]},
        headers=hunter,
    )
    assert relative.status_code == 422 and "not an absolute path" in relative.text
    assert (await client.get(f"/api/cases/{case_id}/hunts", headers=hunter)).json() == []


async def test_a_hunt_run_again_goes_on_where_it_stopped(
    db: Database,
    settings: Settings,
    tmp_path: Path,
    services: dict[str, int],
    open_case: Opener,
) -> None:
    """As after a worker died mid-hunt: the rerun scans the locations still pending, and
    nothing is written twice."""
    repos = make_repositories(tmp_path)
    async with db.session() as session:
        for key in ("storage", "billing"):
            await repositories.replace(
                session, service_key=key, locations=[str(repos[key])], actor="test"
            )
        case_id = await open_case()
        hunt = await hunts.start(
            session,
            case_id=case_id,
            given=HuntIn(strategy="code", rule=SSRF_RULE),
            actor="test",
            settings=settings,
        )
        await session.commit()
    assert await running.run(db, hunt_id=hunt.id, settings=settings) == "finished"
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE hunt_locations SET state = 'pending', findings = 0 "
                "WHERE hunt_id = :h AND location = :l"
            ),
            {"h": hunt.id, "l": str(repos["storage"])},
        )
        await session.execute(
            text("UPDATE hunt_locations SET message = 'kept' WHERE hunt_id = :h AND location = :l"),
            {"h": hunt.id, "l": str(repos["billing"])},
        )
        await session.execute(
            text("UPDATE hunts SET state = 'running' WHERE id = :h"), {"h": hunt.id}
        )
        await session.commit()
    assert await running.run(db, hunt_id=hunt.id, settings=settings) == "finished"
    async with db.session() as session:
        rows = dict(
            (
                await session.execute(
                    text("SELECT location, message FROM hunt_locations WHERE hunt_id = :h"),
                    {"h": hunt.id},
                )
            ).all()
        )
        written = await session.scalar(
            text("SELECT count(*) FROM hunt_findings WHERE hunt_id = :h"), {"h": hunt.id}
        )
    assert rows[str(repos["billing"])] == "kept"  # not scanned again
    assert written == 2
    assert await running.run(db, hunt_id=hunt.id, settings=settings) == "finished"
