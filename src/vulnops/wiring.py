"""Which domain follows which event: the one place listeners are joined to the events they
follow. Every entry point — the web app, the command line, the tests — calls :func:`wire`."""

from __future__ import annotations

from vulnops import events
from vulnops.cases.milestones import CaseChanged


def wire() -> None:
    """Join every listener (idempotent); each is imported when an event first needs it. Bind
    every domain's tasks to the job application, so that any entry point may defer a job."""
    import vulnops.jobs  # noqa: F401, PLC0415 - binding the tasks is the import's effect

    events.subscribe(CaseChanged, "vulnops.intake.follow:follow_case")
    events.mark_wired()
