"""A schedule's calendar page, "take this shift" and "cover for me", overrides over the API and
the command line, and the month's on-call report — with the bad input each refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from helpers import MakeUser, acli, api_token, bearer, csrf, sign_in
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.oncall import engine, paging, service
from vulnops.settings import Settings


async def _on_call(db: Database, at: datetime) -> str | None:
    async with db.session() as session:
        shift, _ = await service.who(session, key="primary", at=at)
    return shift.user


async def _current(db: Database) -> tuple[str, datetime, datetime]:
    async with db.session() as session:
        shift, _ = await service.who(session, key="primary", at=datetime.now(UTC))
    assert shift.user is not None
    return shift.user, shift.start, shift.end


async def test_the_calendar_shows_the_coming_weeks_in_the_schedules_zone(
    client: httpx.AsyncClient, db: Database, oncall: None
) -> None:
    await sign_in(client, "alice@example.com")
    page = await client.get("/oncall/schedules/primary", params={"start": "2027-03-22"})
    assert page.status_code == 200, page.text
    assert "Europe/Paris" in page.text and page.text.count('class="shift-part') >= 14
    # The week's hand-off on Monday 29 March at 09:00 local time, after the clocks changed.
    assert "Mon 29 Mar" in page.text and "09:00\u201324:00" in page.text
    refused = await client.get("/oncall/schedules/primary", params={"days": 57})
    assert refused.status_code == 422
    for start in ("9999-12-31", "0001-01-01"):
        far = await client.get("/oncall/schedules/primary", params={"start": start})
        assert far.status_code == 422, start
    missing = await client.get("/oncall/schedules/nope")
    assert missing.status_code == 404


async def test_taking_a_shift_and_covering_one_make_overrides(
    client: httpx.AsyncClient, db: Database, oncall: None, make_user: MakeUser
) -> None:
    holder, _, end = await _current(db)
    other = "bob@example.com" if holder == "alice@example.com" else "alice@example.com"
    await make_user(Role.ENGINEER, email="carol@example.com")
    await make_user(Role.CUSTOMER, email="cust@example.com")
    referer = {"referer": "http://testserver/oncall/schedules/primary"}
    # Carol takes the shift under way — the whole of it, from now to its end.
    await sign_in(client, "carol@example.com")
    token = await csrf(client, "/oncall/schedules/primary")
    now = datetime.now(UTC)
    taken = await client.post(
        "/oncall/schedules/primary/take", data={"at": now.isoformat(), "csrftoken": token}
    )
    assert taken.status_code == 303
    assert await _on_call(db, now + timedelta(minutes=1)) == "carol@example.com"
    assert await _on_call(db, end - timedelta(minutes=1)) == "carol@example.com"
    # Carol is not on call next week: she cannot give it away.
    mid_next = end + timedelta(days=3)
    refused = await client.post(
        "/oncall/schedules/primary/cover",
        data={"at": mid_next.isoformat(), "user": holder, "csrftoken": token},
        headers=referer,
    )
    assert refused.status_code == 303
    assert "is not on call" in (await client.get(refused.headers["location"])).text
    # Next week's holder has this week's cover for them; a customer cannot be asked.
    client.cookies.clear()
    await sign_in(client, other)
    token = await csrf(client, "/oncall/schedules/primary")
    assert await _on_call(db, mid_next) == other
    outsider = await client.post(
        "/oncall/schedules/primary/cover",
        data={"at": mid_next.isoformat(), "user": "cust@example.com", "csrftoken": token},
        headers=referer,
    )
    assert "is not in the rotations" in (await client.get(outsider.headers["location"])).text
    covered = await client.post(
        "/oncall/schedules/primary/cover",
        data={"at": mid_next.isoformat(), "user": holder, "csrftoken": token},
    )
    assert covered.status_code == 303
    assert await _on_call(db, mid_next) == holder
    assert await _on_call(db, end + timedelta(minutes=1)) == holder  # the whole shift
    async with db.session() as session:
        kinds = list(
            await session.scalars(
                text("SELECT kind FROM audit_events WHERE subject = 'oncall' ORDER BY seq")
            )
        )
        ids = list(await session.scalars(text("SELECT id FROM oncall_overrides ORDER BY id")))
    assert kinds[-2:] == ["oncall.taken", "oncall.covered"] and len(ids) == 2
    # Dave (no on-call manager) neither took nor made either override: he removes neither.
    await make_user(Role.ENGINEER, email="dave@example.com")
    client.cookies.clear()
    await sign_in(client, "dave@example.com")
    page = await client.get("/oncall/schedules/primary")
    assert 'data-testid="overrides"' in page.text and page.text.count("/remove") == 0
    token = await csrf(client, "/oncall/schedules/primary")
    denied = await client.post(
        f"/oncall/schedules/primary/overrides/{ids[0]}/remove",
        data={"csrftoken": token},
        headers=referer,
    )
    assert denied.status_code == 303
    assert "only its taker" in (await client.get(denied.headers["location"])).text
    # Carol, who took the shift under way, gives it back: her override ends now (a record).
    client.cookies.clear()
    await sign_in(client, "carol@example.com")
    assert (await client.get("/oncall/schedules/primary")).text.count("/remove") == 1
    token = await csrf(client, "/oncall/schedules/primary")
    removed = await client.post(
        f"/oncall/schedules/primary/overrides/{ids[0]}/remove", data={"csrftoken": token}
    )
    assert removed.status_code == 303
    assert await _on_call(db, datetime.now(UTC) + timedelta(minutes=1)) == holder
    async with db.session() as session:
        ends = await session.scalar(
            text("SELECT ends_at FROM oncall_overrides WHERE id = :i"), {"i": ids[0]}
        )
        last = await session.scalar(
            text("SELECT kind FROM audit_events WHERE subject = 'oncall' ORDER BY seq DESC")
        )
    assert ends is not None and ends <= datetime.now(UTC) and last == "oncall.override_ended"


async def test_overrides_over_the_api_refuse_bad_windows_and_unknown_people(
    client: httpx.AsyncClient, db: Database, oncall: None, make_user: MakeUser
) -> None:
    manager = bearer(await api_token(db, await make_user(Role.ADMIN)))
    await make_user(Role.RESEARCHER, email="finder@example.com")
    now = datetime.now(UTC).replace(microsecond=0)
    url = "/api/oncall/schedules/primary/overrides"

    async def post(user: str, start: datetime | str, end: datetime | str) -> httpx.Response:
        body = {"user": user, "start": str(start), "end": str(end)}
        if isinstance(start, datetime) and isinstance(end, datetime):
            body |= {"start": start.isoformat(), "end": end.isoformat()}
        return await client.post(url, json=body, headers=manager)

    later = now + timedelta(days=1)
    cases = {
        "must end after it starts": await post("bob@example.com", later, later - timedelta(1)),
        "has passed": await post("bob@example.com", now - timedelta(2), now - timedelta(1)),
        "at most 31 days": await post("bob@example.com", later, later + timedelta(days=32)),
        "offsets": await post("bob@example.com", "2027-03-10T18:00", "2027-03-11T09:00"),
        "no user": await post("nobody@example.com", later, later + timedelta(hours=2)),
        "cannot answer pages": await post("finder@example.com", later, later + timedelta(hours=2)),
    }
    for expected, answer in cases.items():
        assert answer.status_code == 422, (expected, answer.text)
        assert expected in answer.json()["detail"], (expected, answer.text)
    unknown = await client.post(
        "/api/oncall/schedules/nope/overrides",
        json={"user": "bob@example.com", "start": later.isoformat(), "end": later.isoformat()},
        headers=manager,
    )
    assert unknown.status_code == 404
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM oncall_overrides")) == 0
    made = await post("bob@example.com", later, later + timedelta(hours=2))
    assert made.status_code == 201, made.text
    shifts = await client.get(
        "/api/oncall/schedules/primary/shifts",
        params={"start": later.isoformat(), "end": (later + timedelta(hours=3)).isoformat()},
        headers=manager,
    )
    assert shifts.status_code == 200, shifts.text
    assert shifts.json()["shifts"][0] == {
        "start": later.isoformat().replace("+00:00", "Z"),
        "end": (later + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "user": "bob@example.com",
        "source": "override",
    }
    too_long = await client.get(
        "/api/oncall/schedules/primary/shifts",
        params={"start": now.isoformat(), "end": (now + timedelta(days=93)).isoformat()},
        headers=manager,
    )
    assert too_long.status_code == 422 and "92 days" in too_long.json()["detail"]
    centuries = await client.get(
        "/api/oncall/schedules/primary/shifts",
        params={"start": "9000-01-01T00:00:00Z", "end": "9000-01-02T00:00:00Z"},
        headers=manager,
    )
    assert centuries.status_code == 422 and "two years" in centuries.json()["detail"]
    far = await client.get(
        "/api/oncall/schedules/primary/who", params={"at": "0001-01-01T00:00:00Z"}, headers=manager
    )
    assert far.status_code == 422
    gone = await client.delete(f"{url}/{made.json()['id']}", headers=manager)
    assert gone.status_code == 204
    again = await client.delete(f"{url}/{made.json()['id']}", headers=manager)
    assert again.status_code == 404


async def test_the_month_report_counts_hours_pages_and_time_to_acknowledge(
    client: httpx.AsyncClient,
    db: Database,
    oncall: None,
    settings: Settings,
    make_user: MakeUser,
    conninfo: str,
    tmp_path: Path,
) -> None:
    cli_env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    raised_at = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)
    async with db.session() as session:
        raised = await paging.raise_page(
            session,
            dedup_key="alert:disk",
            title="Disk full",
            urgency="high",
            source="alert",
            services=[],
            actor="t",
            now=raised_at,
            settings=settings,
        )
        await engine.escalate(
            session, page_id=raised.page.id, step=0, loop=0, now=raised_at, settings=settings
        )
        await paging.acknowledge(
            session,
            page_id=raised.page.id,
            actor="bob@example.com",
            now=raised_at + timedelta(minutes=4),
            settings=settings,
        )
        await session.commit()
    staff = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    answer = await client.get("/api/oncall/report", params={"month": "2027-03"}, headers=staff)
    assert answer.status_code == 200, answer.text
    people = {p["user"]: p for p in answer.json()["people"]}
    assert set(people) == {"alice@example.com", "bob@example.com"}
    assert sum(p["hours"] for p in people.values()) == 31 * 24
    bob = people["bob@example.com"]
    assert (bob["pages"], bob["acknowledged"], bob["ack_median_minutes"]) == (1, 1, 4.0)
    assert people["alice@example.com"]["pages"] == 0
    for bad in ("2027-13", "March", "0000-01", "9999-12", "2031-01"):
        refused = await client.get("/api/oncall/report", params={"month": bad}, headers=staff)
        assert refused.status_code == 422, bad
    shown = await acli("oncall", "report", "--month", "2027-03", "--json", env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert {p["user"]: p["pages"] for p in json.loads(shown.output)} == {
        "alice@example.com": 0,
        "bob@example.com": 1,
    }
    await sign_in(client, "alice@example.com")
    page = await client.get("/oncall/report", params={"month": "2027-03"})
    assert page.status_code == 200 and "bob@example.com" in page.text and "4.0 min" in page.text


async def test_an_override_from_the_command_line(
    db: Database, oncall: None, conninfo: str, tmp_path: Path
) -> None:
    cli_env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=2)
    made = await acli(
        "oncall",
        "override",
        "primary",
        "--user",
        "lead@example.com",
        "--start",
        start.strftime("%Y-%m-%dT%H:%M%z"),
        "--end",
        end.strftime("%Y-%m-%dT%H:%M%z"),
        env=cli_env,
    )
    assert made.exit_code == 0, made.output
    assert await _on_call(db, start + timedelta(hours=1)) == "lead@example.com"
    backwards = await acli(
        "oncall",
        "override",
        "primary",
        "--user",
        "lead@example.com",
        "--start",
        end.strftime("%Y-%m-%dT%H:%M%z"),
        "--end",
        start.strftime("%Y-%m-%dT%H:%M%z"),
        env=cli_env,
    )
    assert backwards.exit_code != 0 and "must end after it starts" in backwards.output
