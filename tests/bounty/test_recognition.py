"""Reputation from the event log by the published formula, the leaderboards and the hall of fame,
retests paid by the programme's rule, and a programme's responsiveness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.bounty import reputation
from vulnops.bounty.tables import DEFAULT_TABLE_FILE
from vulnops.db.database import Database

TABLE = yaml.safe_load(DEFAULT_TABLE_FILE.read_text())
H = dict[str, str]


async def _programme(client: httpx.AsyncClient, admin: H) -> None:
    created = await client.post(
        "/api/bounty/programs",
        json={"key": "cloud", "award_table": TABLE, "starts_at": "2020-01-01T00:00:00Z"},
        headers=admin,
    )
    assert created.status_code == 201, created.text


async def _report(client: httpx.AsyncClient, researcher: H, title: str) -> int:
    made = await client.post(
        "/api/reports", json={"title": title, "description": "Steps."}, headers=researcher
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _move(
    client: httpx.AsyncClient, staff: H, report_id: int, state: str, reason: str | None = None
) -> None:
    body: dict[str, Any] = {"state": state}
    if reason:
        body |= {"close_reason": reason, "resolution": f"closed: {reason}"}
    moved = await client.post(f"/api/reports/{report_id}/transition", json=body, headers=staff)
    assert moved.status_code == 200, moved.text


async def _award(
    client: httpx.AsyncClient, staff: H, report_id: int, severity: str, quality: str = "low"
) -> int:
    proposed = await client.post(
        f"/api/bounty/reports/{report_id}/award",
        json={"impact": "spoofing", "severity": severity, "quality": quality},
        headers=staff,
    )
    assert proposed.status_code == 201, proposed.text
    award_id = int(proposed.json()["id"])
    submitted = await client.post(f"/api/bounty/awards/{award_id}/submit", headers=staff)
    assert submitted.json()["status"] == "approved", submitted.text
    return award_id


async def _score(db: Database) -> reputation.Scored:
    async with db.session() as s:
        scored = await reputation.score(s)
        await s.commit()
    return scored


async def test_points_follow_the_published_formula_once_per_report(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    ada_user, bob_user = await make_user(Role.RESEARCHER), await make_user(Role.RESEARCHER)
    ada, bob = bearer(await api_token(db, ada_user)), bearer(await api_token(db, bob_user))
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    await _programme(client, bearer(await api_token(db, await make_user(Role.ADMIN))))
    first = await _report(client, ada, "Spoofed tenant header")
    await _move(client, staff, first, "triaged")
    await _award(client, staff, first, "critical")
    noise = await _report(client, ada, "Buy cheap watches")
    await _move(client, staff, noise, "closed", "spam")
    again = await _report(client, bob, "The same header, again")
    await _move(client, staff, again, "closed", "duplicate")
    wrong = await _report(client, bob, "Port 443 is open")
    await _move(client, staff, wrong, "closed", "not_applicable")
    await _move(client, staff, wrong, "new")  # reopened, then closed the same way again
    await _move(client, staff, wrong, "closed", "out_of_scope")

    scored = await _score(db)
    assert scored.events > 0
    # ada: triaged +7, critical (the table's first severity) +40, spam -10; bob: +2, -5 once.
    async with db.session() as s:
        period = reputation.quarter(datetime.now(UTC))
        mine = await reputation.standing(s, researcher_id=ada_user.id, period=period)
        theirs = await reputation.standing(s, researcher_id=bob_user.id, period=period)
    assert (mine.reputation, mine.points, mine.rank) == (100 + 37, 37, 1)
    assert (theirs.reputation, theirs.points, theirs.rank) == (100 - 3, -3, 2)
    assert (await _score(db)).events == 0  # caught up: scoring again writes nothing
    async with db.session() as s:
        await reputation.score(s)
        assert await s.scalar(text("SELECT count(*) FROM bounty_reputation_points")) == 5
        year = await s.execute(
            text(
                "SELECT researcher_id, points FROM bounty_reputation_totals "
                "WHERE period = :year ORDER BY points DESC"
            ),
            {"year": str(datetime.now(UTC).year)},
        )
        assert year.all() == [(ada_user.id, 37), (bob_user.id, -3)]

    me = await client.get("/api/bounty/me", headers=ada)
    assert me.json()["standing"] == {
        "researcher_id": ada_user.id,
        "reputation": 137,
        "period": period,
        "points": 37,
        "rank": 1,
    }


async def test_the_hall_of_fame_names_only_who_chose_to_be_named(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    await _programme(client, bearer(await api_token(db, await make_user(Role.ADMIN))))
    researchers = []
    for severity in ("critical", "important", "critical"):
        user = await make_user(Role.RESEARCHER)
        token = bearer(await api_token(db, user))
        report = await _report(client, token, f"{severity} issue")
        await _move(client, staff, report, "triaged")
        await _award(client, staff, report, severity)
        researchers.append((user, token))
    await _score(db)
    (ada, ada_token), (bob, bob_token), (eve, _) = researchers
    named = await client.put(
        "/api/bounty/me/hall-of-fame", json={"public_name": "  Ada   L. "}, headers=ada_token
    )
    assert named.json() == {"public_name": "Ada L.", "listed": True}
    await client.put("/api/bounty/me/hall-of-fame", json={"public_name": "B"}, headers=bob_token)

    board = (await client.get("/api/bounty/leaderboard", headers=staff)).json()
    # ada and eve tie on 47 (7 + 40), bob has 27 (7 + 20): staff see everyone, ties share a rank.
    assert [(one["rank"], one["points"], one["name"]) for one in board] == [
        (1, 47, eve.email),
        (1, 47, ada.email),
        (3, 27, bob.email),
    ]
    public = await client.get("/api/bounty/hall-of-fame")  # anyone, signed in or not
    assert public.json() == [
        {"rank": 1, "name": "Ada L.", "points": 47},
        {"rank": 2, "name": "B", "points": 27},
    ]
    assert eve.email not in public.text and ada.email not in public.text
    await client.put(
        "/api/bounty/me/hall-of-fame", json={"public_name": "B", "listed": False}, headers=bob_token
    )
    year = datetime.now(UTC).year
    public = await client.get(f"/api/bounty/hall-of-fame?period={year}")
    assert [one["name"] for one in public.json()] == ["Ada L."]
    for bad in ("2026-Q5", "last", "26"):
        refused = await client.get("/api/bounty/leaderboard", params={"period": bad}, headers=staff)
        assert refused.status_code == 422 and "is not a year" in refused.text
    blank = await client.put(
        "/api/bounty/me/hall-of-fame", json={"public_name": "   "}, headers=ada_token
    )
    assert blank.status_code == 422


async def test_a_retest_is_paid_by_the_programmes_rule(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    ada_user = await make_user(Role.RESEARCHER)
    ada = bearer(await api_token(db, ada_user))
    bob = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    await _programme(client, bearer(await api_token(db, await make_user(Role.ADMIN))))
    report = await _report(client, ada, "Spoofed header")
    await _move(client, staff, report, "triaged")
    ask = {"ask": "Try the header on the new version."}
    early = await client.post(f"/api/bounty/reports/{report}/retests", json=ask, headers=staff)
    assert early.status_code == 422 and "approved award" in early.text
    await _award(client, staff, report, "important", "low")  # $2,500.00
    asked = await client.post(f"/api/bounty/reports/{report}/retests", json=ask, headers=staff)
    assert asked.status_code == 201, asked.text
    retest = asked.json()
    assert (retest["amount"], retest["currency"], retest["status"]) == (100_00, "USD", "requested")
    twice = await client.post(f"/api/bounty/reports/{report}/retests", json=ask, headers=staff)
    assert twice.status_code == 409
    path = f"/api/bounty/me/retests/{retest['id']}"
    answer = {"outcome": "fixed", "note": "Refused with 400 now."}
    assert (await client.post(path, json=answer, headers=bob)).status_code == 404
    vague = await client.post(path, json={"outcome": "fixed"}, headers=ada)
    assert vague.status_code == 422 and "what you tried" in vague.text
    odd = await client.post(path, json={"outcome": "maybe", "note": "x"}, headers=ada)
    assert odd.status_code == 422
    done = await client.post(path, json=answer, headers=ada)
    assert done.json()["status"] == "fixed", done.text
    again = await client.post(path, json=answer, headers=ada)
    assert again.status_code == 409
    me = (await client.get("/api/bounty/me", headers=ada)).json()
    assert me["balances"][0]["available"] == 2_500_00 + 100_00
    assert [r["status"] for r in me["retests"]] == ["fixed"]
    thread = await client.get(f"/api/reports/{report}/messages", headers=ada)
    bodies = [m["body"] for m in thread.json()]
    assert any("Please retest the fix" in b and "$100.00" in b for b in bodies)
    assert any(b.startswith("Retest: The fix holds.") for b in bodies)

    declined = await client.post(f"/api/bounty/reports/{report}/retests", json=ask, headers=staff)
    no = await client.post(
        f"/api/bounty/me/retests/{declined.json()['id']}",
        json={"outcome": "declined"},
        headers=ada,
    )
    assert no.json()["status"] == "declined"
    me = (await client.get("/api/bounty/me", headers=ada)).json()
    assert me["balances"][0]["available"] == 2_600_00  # declining is not paid


async def test_a_programme_shows_how_fast_it_answers(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    ada = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    await _programme(client, bearer(await api_token(db, await make_user(Role.ADMIN))))
    waited = (10, 20, 30, 40, 100)
    for hours in waited:
        report = await _report(client, ada, f"waited {hours} h")
        async with db.session() as s:
            await s.execute(
                text("UPDATE reports SET received_at = now() - :ago WHERE id = :id"),
                {"ago": timedelta(hours=hours), "id": report},
            )
            await s.commit()
        await _move(client, staff, report, "triaged")
    untouched = await _report(client, ada, "not answered yet")
    assert untouched
    shown = (await client.get("/api/bounty/programs/cloud", headers=staff)).json()
    assert shown["retest_amount"] == 100_00
    milestones = {m["name"]: m for m in shown["responsiveness"]}
    for name in ("first_response", "triage"):
        assert milestones[name]["reports"] == 5
        assert abs(milestones[name]["median_hours"] - 30) < 0.1
        assert abs(milestones[name]["p90_hours"] - 76) < 0.1  # 40 + 0.6 * (100 - 40)
    assert milestones["award"] == {
        "name": "award",
        "reports": 0,
        "median_hours": None,
        "p90_hours": None,
    }
    missing = await client.get("/api/bounty/programs/nope", headers=staff)
    assert missing.status_code == 404
