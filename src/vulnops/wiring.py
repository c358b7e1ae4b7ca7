"""Which domain follows which event: the one place listeners are joined to the events they
follow. Every entry point — the web app, the command line, the tests — calls :func:`wire`."""

from __future__ import annotations

from vulnops import events
from vulnops.cases.milestones import CaseChanged
from vulnops.intake import follow


def wire() -> None:
    """Join every listener (idempotent)."""
    events.subscribe(CaseChanged, follow.follow_case)
    events.mark_wired()
