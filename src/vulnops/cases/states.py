"""The case lifecycle (pure)."""

from __future__ import annotations

from enum import StrEnum

from vulnops.errors import Conflict, Invalid


class CaseState(StrEnum):
    NEW = "new"
    TRIAGING = "triaging"
    REMEDIATING = "remediating"
    DEPLOYING = "deploying"
    MITIGATED = "mitigated"
    NOTIFIED = "notified"
    DISCLOSED = "disclosed"
    CLOSED = "closed"
    REJECTED = "rejected"


S = CaseState
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.NEW: frozenset({S.TRIAGING, S.REJECTED}),
    S.TRIAGING: frozenset({S.REMEDIATING, S.REJECTED}),
    # A configuration change can mitigate without a deployment.
    S.REMEDIATING: frozenset({S.DEPLOYING, S.MITIGATED}),
    # A rollout that is rolled back sends the case back to remediation.
    S.DEPLOYING: frozenset({S.MITIGATED, S.REMEDIATING}),
    # No customer needed telling: close, or disclose anyway (policy).
    S.MITIGATED: frozenset({S.NOTIFIED, S.DISCLOSED, S.CLOSED}),
    S.NOTIFIED: frozenset({S.DISCLOSED, S.CLOSED}),
    S.DISCLOSED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.TRIAGING}),
    S.REJECTED: frozenset({S.TRIAGING}),
}

OPEN_STATES = frozenset(set(CaseState) - {S.CLOSED, S.REJECTED})
MITIGATED_STATES = frozenset({S.MITIGATED, S.NOTIFIED, S.DISCLOSED, S.CLOSED})


def check_transition(current: CaseState, target: CaseState, *, reason: str | None) -> None:
    """Raise 409 (naming the allowed moves) or 422 when the move is not allowed as asked."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        names = ", ".join(sorted(state.value for state in allowed))
        raise Conflict(
            f"a {current.value} case cannot become {target.value}; allowed: {names}",
            allowed=sorted(state.value for state in allowed),
        )
    ending_or_reopening = target in {S.REJECTED, S.CLOSED} or current in {S.CLOSED, S.REJECTED}
    if ending_or_reopening and not (reason and reason.strip()):
        raise Invalid(f"say why the case becomes {target.value}: give a reason")
