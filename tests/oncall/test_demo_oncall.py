"""The demo's follow-the-sun schedule: each region on call in its own office hours and zone,
the backstop at night and at the weekend, nobody missing at any hour of a week; the demo
responder's evening taken (an override) and their reminder rule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from vulnops.auth.demo import seed_accounts
from vulnops.auth.models import User
from vulnops.db.database import Database
from vulnops.demo import DemoContext
from vulnops.oncall import contacts, service
from vulnops.oncall import schedule as pure
from vulnops.oncall.demo import seed_oncall
from vulnops.tenants.demo import seed_tenants


async def test_the_follow_the_sun_schedule_covers_every_hour_with_the_region_awake(
    db: Database,
) -> None:
    context = DemoContext(now=datetime(2026, 12, 2, 12, tzinfo=UTC), rng=random.Random(1))
    async with db.session() as session:
        await seed_tenants(session, context)
        await seed_accounts(session, context)
        await seed_oncall(session, context)
        await session.commit()
        stored = await service.load(session, key="follow-the-sun")
        responder = await session.scalar(
            select(User.id).where(User.email == "responder@vulnops.example")
        )
        assert responder is not None
        rules = (await contacts.of_users(session, user_ids=[responder]))[responder]
    assert [(r.channel, r.delay_minutes, r.urgency) for r in rules] == [
        ("email", 0, "any"),
        ("email", 10, "high"),
    ]
    # The day after: from 18:00 to 22:00 UTC the demo responder took the evening.
    evening = pure.who(stored.schedule, datetime(2026, 12, 3, 20, tzinfo=UTC))
    assert (evening.user, evening.source) == ("responder@vulnops.example", pure.OVERRIDE)
    assert (evening.start.hour, evening.end.hour) == (18, 22)
    week = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday
    result = pure.final(stored.schedule, week, week + timedelta(days=7))
    assert result.gaps == () and result.warnings == ()
    regions = {"apac": "Australia/Sydney", "emea": "Europe/Paris", "americas": "America/New_York"}
    for layer, zone in regions.items():
        wednesday_ten = datetime(2026, 12, 9, 10, tzinfo=ZoneInfo(zone))
        shift = pure.who(stored.schedule, wednesday_ten)
        assert shift.source == layer, (layer, shift)
        assert shift.start.astimezone(ZoneInfo(zone)).hour == 8
    saturday = pure.who(stored.schedule, datetime(2026, 12, 12, 12, tzinfo=UTC))
    assert saturday.source == "backstop" and saturday.user in {
        "responder@vulnops.example",
        "admin@vulnops.example",
    }
    hours = {shift.source for shift in result.shifts}
    assert hours == {"apac", "emea", "americas", "backstop"}
