"""Which domain follows which event, and which adds panels to which page: the one place
listeners are joined to the events they follow. Every entry point — the web app, the command
line, the tests — calls :func:`wire`."""

from __future__ import annotations

from vulnops import events, jobcontext, panels
from vulnops.cases.milestones import CaseAssessed, CaseChanged, CaseClosing
from vulnops.notify.events import DeliveriesDied
from vulnops.rollout.events import RolloutNeedsAttention


def _bind_tasks() -> None:
    import vulnops.jobs  # noqa: F401, PLC0415 - binding the tasks is the import's effect


def wire() -> None:
    """Join every listener (idempotent); each is imported when an event first needs it (and
    the job application when a job is first deferred: ``jobcontext.bound``)."""
    jobcontext.bind_with(_bind_tasks)
    events.subscribe(CaseChanged, "vulnops.intake.follow:follow_case")
    events.subscribe(CaseChanged, "vulnops.oncall.rules:page_case")
    events.subscribe(CaseChanged, "vulnops.review.service:start_when_mitigated")
    events.subscribe(CaseAssessed, "vulnops.oncall.rules:page_case")
    events.subscribe(CaseClosing, "vulnops.variants.rootcause:require_before_close")
    events.subscribe(RolloutNeedsAttention, "vulnops.oncall.rules:page_rollout")
    events.subscribe(DeliveriesDied, "vulnops.oncall.rules:page_dead_deliveries")
    panels.provide(
        "report", template="bounty/report_panel.html", provider="vulnops.bounty.pages:report_panel"
    )
    events.mark_wired()
