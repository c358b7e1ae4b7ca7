"""Which domain follows which event: the one place listeners are joined to the events they
follow. Every entry point — the web app, the command line, the tests — calls :func:`wire`."""

from __future__ import annotations

from vulnops import events
from vulnops.cases.milestones import CaseChanged


def wire() -> None:
    """Join every listener (idempotent); each is imported when an event first needs it."""
    events.subscribe(CaseChanged, "vulnops.intake.follow:follow_case")
    events.mark_wired()
