"""iCalendar feeds (RFC 5545, written with ``icalendar``) of the final schedule: one per
schedule and one per person (their shifts on every schedule), 30 days back and 90 ahead, each
behind a secret URL. The token is an HMAC of what the feed shows, keyed with the application's
secret: nothing to store, the same URL every time, and no way to guess another feed's."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from vulnops.oncall import schedule as pure
from vulnops.oncall.service import StoredSchedule
from vulnops.settings import Settings

BEHIND = timedelta(days=30)
AHEAD = timedelta(days=90)


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - BEHIND, now + AHEAD


def token(settings: Settings, what: str) -> str:
    """The secret of the feed ``what`` (``schedule:KEY`` or ``user:EMAIL``)."""
    digest = hmac.new(settings.session_secret().encode(), f"ical:{what}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def valid(settings: Settings, what: str, given: str) -> bool:
    return hmac.compare_digest(token(settings, what), given)


def _event(schedule_key: str, shift: pure.Shift, *, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"{schedule_key}-{int(shift.start.timestamp())}-{shift.user}@vulnops")
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", f"On call: {shift.user} ({schedule_key})")
    event.add("description", f"Layer: {shift.source}" if shift.source else "")
    return event


def feed(
    name: str, schedules: Iterable[StoredSchedule], *, now: datetime, user: str | None = None
) -> bytes:
    """The final schedules' shifts around ``now`` (only ``user``'s when given), as iCalendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//vulnops//on call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for stored in schedules:
        final = pure.final(stored.schedule, now - BEHIND, now + AHEAD, disabled=stored.disabled)
        for shift in final.shifts:
            if shift.user is None or (user is not None and shift.user != user):
                continue
            calendar.add_component(_event(stored.schedule.key, shift, stamp=now))
    data: bytes = calendar.to_ical()
    return data
