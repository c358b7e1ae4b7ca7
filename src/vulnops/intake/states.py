"""Report sources and states (pure)."""

from __future__ import annotations

from enum import StrEnum

from vulnops.errors import Conflict, Invalid


class Source(StrEnum):
    RESEARCHER = "researcher"
    PARTNER = "partner"
    INTERNAL = "internal"
    SCANNER = "scanner"


class ReportState(StrEnum):
    NEW = "new"
    NEEDS_INFO = "needs_info"
    TRIAGED = "triaged"
    CLOSED = "closed"


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
TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    R.NEW: frozenset({R.NEEDS_INFO, R.TRIAGED, R.CLOSED}),
    R.NEEDS_INFO: frozenset({R.TRIAGED, R.CLOSED}),
    R.TRIAGED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset({R.NEW}),
}


def check_transition(
    current: ReportState,
    target: ReportState,
    *,
    close_reason: CloseReason | None,
    resolution: str | None,
) -> None:
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
