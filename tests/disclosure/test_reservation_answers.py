"""What CVE Services answers to a reservation that we cannot keep: an id we cannot store or
that is no CVE id is a 502, an id another case holds a 409, and two reservations at once keep
one id; in every refusal nothing is recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.responses import Response
from sqlalchemy import text

from disclosure.cve_peer import CveServicesDouble
from disclosure.flows import api_client, approve_text, disclose, notify_customers
from notify.notify_world import World, world_maker
from vulnops.db.database import Database
from vulnops.settings import Settings


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
    async with api_client(db, cna) as client:
        await client.post(f"{base}/reserve-cve", headers=comms)
        await notify_customers(client, comms, second, world.case_id)
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
    async with api_client(db, cna) as client:
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
    async with api_client(db, cna) as client:
        held = (
            await client.post(f"/api/cases/{world.case_id}/disclosure/reserve-cve", headers=comms)
        ).json()["cve_id"]
        base = f"/api/cases/{other.case_id}/disclosure"
        double.reserve_answers.append({"cve_ids": [{"cve_id": held, "state": "RESERVED"}]})
        refused = await client.post(f"{base}/reserve-cve", headers=comms)
        assert refused.status_code == 409, refused.text
        assert f"{held}, which another case holds already" in refused.json()["detail"]
        assert await _kept(db, other.case_id) == (None, 0)

        await notify_customers(client, comms, second, other.case_id)
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
    async with api_client(db, cna) as client:
        answers = await asyncio.gather(*(client.post(url, headers=comms) for _ in range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 409], [
        answer.text for answer in answers
    ]
    [done] = [answer.json() for answer in answers if answer.status_code == 200]
    assert await _kept(db, world.case_id) == (done["cve_id"], 1)
