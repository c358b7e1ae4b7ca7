"""Report sources and states, and what a report waits for (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vulnops.errors import Conflict, Invalid


class Source(StrEnum):
    RESEARCHER = "researcher"
    PARTNER = "partner"
    INTERNAL = "internal"
    SCANNER = "scanner"
    # An alert from a detection system (PagerDuty Events, Alertmanager) that paged the on-call.
    DETECTION = "detection"


class ReportState(StrEnum):
    NEW = "new"
    NEEDS_INFO = "needs_info"
    TRIAGED = "triaged"
    # A report in a case follows it: accepted when the case is opened from it, resolved when
    # the case is mitigated, published when its advisory is public.
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    PUBLISHED = "published"
    CLOSED = "closed"


class Severity(StrEnum):
    """A finding's severity as its tool gave it, on one scale (SARIF: see ``intake.sarif``)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


class CloseReason(StrEnum):
    DUPLICATE = "duplicate"
    NOT_APPLICABLE = "not_applicable"
    OUT_OF_SCOPE = "out_of_scope"
    SPAM = "spam"
    WONT_FIX = "wont_fix"


# Closed reports that do not count as a valid finding (for "the original" of a case).
INVALID_REASONS = frozenset(
    {CloseReason.NOT_APPLICABLE, CloseReason.OUT_OF_SCOPE, CloseReason.SPAM}
)

R = ReportState
# The states that follow the report's case (never set by hand).
FOLLOWING = frozenset({R.ACCEPTED, R.RESOLVED, R.PUBLISHED})
TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    R.NEW: frozenset({R.NEEDS_INFO, R.TRIAGED, R.CLOSED}),
    R.NEEDS_INFO: frozenset({R.TRIAGED, R.CLOSED}),
    R.TRIAGED: frozenset({R.CLOSED}),
    R.ACCEPTED: frozenset({R.CLOSED}),
    R.RESOLVED: frozenset({R.CLOSED}),
    R.PUBLISHED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset({R.NEW}),
}


def following(case_mitigated: bool, case_public: bool) -> ReportState:
    """The state of a report that follows its case."""
    if case_public:
        return R.PUBLISHED
    return R.RESOLVED if case_mitigated else R.ACCEPTED


def check_transition(
    current: ReportState,
    target: ReportState,
    *,
    close_reason: CloseReason | None,
    resolution: str | None,
) -> None:
    if target in FOLLOWING:
        raise Conflict(
            f"{target.value} is not set by hand: a report in a case follows it (accepted, "
            "resolved when the case is mitigated, published when its advisory is public)"
        )
    allowed = TRANSITIONS[current]
    if target not in allowed:
        names = ", ".join(sorted(state.value for state in allowed))
        raise Conflict(
            f"a {current.value} report cannot become {target.value}; allowed: {names}",
            allowed=sorted(state.value for state in allowed),
        )
    if target is R.CLOSED:
        if close_reason is None:
            reasons = ", ".join(reason.value for reason in CloseReason)
            raise Invalid(f"closing a report needs a close_reason: one of {reasons}")
        if not (resolution and resolution.strip()):
            raise Invalid("closing a report needs a resolution the reporter can read")
    elif close_reason is not None:
        raise Invalid("a close_reason only goes with closing the report")
    if target is R.NEEDS_INFO and not (resolution and resolution.strip()):
        raise Invalid("asking for information needs a message saying what is missing")


CLOSE_LABELS: dict[CloseReason, str] = {
    CloseReason.DUPLICATE: "a duplicate",
    CloseReason.NOT_APPLICABLE: "not applicable",
    CloseReason.OUT_OF_SCOPE: "out of scope",
    CloseReason.SPAM: "spam",
    CloseReason.WONT_FIX: "won't fix",
}


class Turn(StrEnum):
    """Whose move a report waits for."""

    REPORTER = "reporter"
    TEAM = "team"
    NOBODY = "nobody"


@dataclass(frozen=True)
class Waiting:
    on: Turn
    sentence: str  # addressed to the reporter


_WAITING: dict[ReportState, Waiting] = {
    R.NEW: Waiting(Turn.TEAM, "Received; waiting for the security team to triage it."),
    R.NEEDS_INFO: Waiting(Turn.REPORTER, "Waiting for your answer: the team asked for more."),
    R.TRIAGED: Waiting(Turn.TEAM, "Confirmed; waiting for the team to open a case."),
    R.ACCEPTED: Waiting(Turn.TEAM, "Accepted into a case; waiting for the fix to roll out."),
    R.RESOLVED: Waiting(Turn.TEAM, "Fixed everywhere; waiting for the public disclosure."),
    R.PUBLISHED: Waiting(Turn.NOBODY, "Public: the advisory is published."),
}


def waiting_on(
    state: ReportState,
    *,
    close_reason: CloseReason | None,
    team_spoke_at: datetime | None,
    reporter_spoke_at: datetime | None,
) -> Waiting:
    """What a report waits for, and from whom: the reporter's answer when the team spoke last
    (a question, a message), the team's when the reporter did, else what its state waits for."""
    if state is R.CLOSED:
        reason = CLOSE_LABELS[close_reason] if close_reason else "closed"
        return Waiting(Turn.NOBODY, f"Closed ({reason}).")
    reporter_last = reporter_spoke_at is not None and (
        team_spoke_at is None or reporter_spoke_at > team_spoke_at
    )
    if reporter_last:
        return Waiting(Turn.TEAM, "Waiting for the team to answer your message.")
    return _WAITING[state]
