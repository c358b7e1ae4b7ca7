"""The iCalendar feeds, read back with ``icalendar`` and ``recurring-ical-events`` (a second
implementation) and compared with the pure schedule; each behind its secret URL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import recurring_ical_events
from icalendar import Calendar

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.oncall import calendar, service
from vulnops.oncall import schedule as pure
from vulnops.settings import Settings


async def test_the_schedule_feed_is_the_final_schedule(
    client: httpx.AsyncClient, db: Database, oncall: None, settings: Settings, make_user: MakeUser
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    page = await client.get("/oncall", headers=staff)
    assert page.status_code == 200
    link = re.search(r'href="(/oncall/feeds/schedules/primary\.ics\?token=[0-9a-f]+)"', page.text)
    assert link is not None
    response = await client.get(link.group(1))  # no sign-in: the URL is the secret
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    now = datetime.now(UTC)
    begin, end = now - timedelta(days=7), now + timedelta(days=21)
    events = recurring_ical_events.of(Calendar.from_ical(response.content)).between(begin, end)
    got = sorted((e["DTSTART"].dt, e["DTEND"].dt, str(e["SUMMARY"]).split(" ")[2]) for e in events)
    async with db.session() as session:
        stored = await service.load(session, key="primary")
    expected = [
        s
        for s in pure.final(stored.schedule, now - calendar.BEHIND, now + calendar.AHEAD).shifts
        if s.user is not None and s.end > begin and s.start < end
    ]
    assert got == [(s.start, s.end, s.user) for s in expected]
    assert len(got) >= 4  # weekly shifts over four weeks


async def test_a_person_feed_has_only_their_shifts_and_a_wrong_token_finds_nothing(
    client: httpx.AsyncClient, db: Database, oncall: None, settings: Settings
) -> None:
    mine = calendar.token(settings, "user:alice@example.com")
    response = await client.get(
        "/oncall/feeds/people/alice@example.com.ics", params={"token": mine}
    )
    assert response.status_code == 200
    parsed = Calendar.from_ical(response.content)
    summaries = {str(e["SUMMARY"]) for e in parsed.walk("VEVENT")}
    assert summaries == {"On call: alice@example.com (primary)"}
    stolen = await client.get("/oncall/feeds/people/bob@example.com.ics", params={"token": mine})
    assert stolen.status_code == 404  # Alice's secret is not Bob's
    guessed = await client.get("/oncall/feeds/schedules/primary.ics", params={"token": "0" * 40})
    assert guessed.status_code == 404
