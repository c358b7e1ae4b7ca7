"""The case lifecycle (pure): milestones are the facts, the state is derived from them.

Each domain records what it knows as a milestone of the case — once, with its time and actor.
:func:`derive_state` is the one function that turns the milestones into the case's state; a person
records only the milestones that are human decisions (:func:`hand_move` says which, and what a
move records or clears). Nothing else sets a state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
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


class Milestone(StrEnum):
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    FIX_READY = "fix_ready"
    DEPLOYMENT_STARTED = "deployment_started"
    MITIGATED = "mitigated"
    CUSTOMERS_NOTIFIED = "customers_notified"
    DISCLOSURE_APPROVED = "disclosure_approved"
    PUBLIC = "public"
    CVE_PUBLISHED = "cve_published"
    CLOSED = "closed"
    REJECTED = "rejected"


S = CaseState
M = Milestone
# A case in these states is over: no deadline runs, no queue lists it.
FINISHED = frozenset({S.CLOSED, S.REJECTED})

# Who records each milestone: the answer to "why can I not set this by hand?".
RECORDED_BY: dict[Milestone, str] = {
    M.REPORTED: "opening the case (the time of its first report)",
    M.ACKNOWLEDGED: "a person who takes the case (acknowledge)",
    M.TRIAGED: "a person's triage decision",
    M.FIX_READY: "remediation, when a fix's test evidence passes (or an administrator "
    "overrides it)",
    M.DEPLOYMENT_STARTED: "the rollout, when a rollout of the case's fix starts deploying",
    M.MITIGATED: "the rollout, when the fix runs on every unit of every fixed service "
    "(or a person: mitigated without a deployment, with a reason)",
    M.CUSTOMERS_NOTIFIED: "notification, when the first advisory version is sent "
    "(or a person: no customer needs telling, with a reason)",
    M.DISCLOSURE_APPROVED: "disclosure, when a second person approves the disclosure",
    M.PUBLIC: "disclosure, when an approved disclosure's embargo ends",
    M.CVE_PUBLISHED: "disclosure, when CVE Services accepts the case's record",
    M.CLOSED: "a person who closes the case",
    M.REJECTED: "a person who rejects the case",
}

ENDED = frozenset({M.CLOSED, M.REJECTED})


# The first line whose milestones the case has all reached gives its state.
PRECEDENCE: tuple[tuple[frozenset[Milestone], CaseState], ...] = (
    (frozenset({M.REJECTED}), S.REJECTED),
    (frozenset({M.CLOSED}), S.CLOSED),
    (frozenset({M.PUBLIC}), S.DISCLOSED),
    (frozenset({M.MITIGATED, M.CUSTOMERS_NOTIFIED}), S.NOTIFIED),
    (frozenset({M.MITIGATED}), S.MITIGATED),
    (frozenset({M.DEPLOYMENT_STARTED}), S.DEPLOYING),
    (frozenset({M.TRIAGED}), S.REMEDIATING),
    (frozenset({M.ACKNOWLEDGED}), S.TRIAGING),
)


def derive_state(reached: Collection[Milestone]) -> CaseState:
    """The case's state from the milestones it has reached: the furthest fact wins.

    A case is ``disclosed`` only once it is public (an approved disclosure under embargo is not),
    ``notified`` only once it is mitigated and its customers were told (or need not be).
    """
    facts = frozenset(reached)
    return next((state for needed, state in PRECEDENCE if needed <= facts), S.NEW)


@dataclass(frozen=True)
class Record:
    milestone: Milestone
    skipped: bool = False


@dataclass(frozen=True)
class Move:
    """What a hand move records and clears (recording an existing milestone keeps the first)."""

    record: tuple[Record, ...] = ()
    clear: tuple[Milestone, ...] = ()
    reason_needed: bool = False


# A hand move to each state: the milestone it records.
HAND_TARGETS: dict[CaseState, Milestone] = {
    S.TRIAGING: M.ACKNOWLEDGED,
    S.REMEDIATING: M.TRIAGED,
    S.MITIGATED: M.MITIGATED,
    S.NOTIFIED: M.CUSTOMERS_NOTIFIED,
    S.CLOSED: M.CLOSED,
    S.REJECTED: M.REJECTED,
}
# What the target milestone brings along when the case had not reached these yet.
_IMPLIED: dict[Milestone, tuple[Milestone, ...]] = {
    M.TRIAGED: (M.ACKNOWLEDGED,),
    M.MITIGATED: (M.ACKNOWLEDGED, M.TRIAGED),
    M.REJECTED: (M.ACKNOWLEDGED,),
}
_REASONS = {
    M.MITIGATED: "mitigated by hand means without a deployment: say how it was mitigated",
    M.CUSTOMERS_NOTIFIED: "notified by hand means no customer needs telling: say why "
    "(sending the advisory records the notification)",
    M.CLOSED: "say why the case is closed: give a reason",
    M.REJECTED: "say why the case is rejected: give a reason",
}


def _given(reason: str | None) -> bool:
    return bool(reason and reason.strip())


def hand_move(reached: Collection[Milestone], target: CaseState, *, reason: str | None) -> Move:
    """What a person's move of the case to ``target`` records.

    Raises :class:`Conflict` (409) for a state only the code sets (naming which code), for a move
    the facts forbid (naming the missing or contradicting milestones), and :class:`Invalid` (422)
    when a decision that needs a reason has none.
    """
    if target not in HAND_TARGETS:
        owner = {
            S.NEW: "nobody: a case is new until someone acknowledges it",
            S.DEPLOYING: RECORDED_BY[M.DEPLOYMENT_STARTED],
            S.DISCLOSED: RECORDED_BY[M.PUBLIC],
        }[target]
        raise Conflict(f"{target.value} is not set by hand: it is set by {owner}", set_by=owner)
    milestone = HAND_TARGETS[target]
    current = derive_state(reached)
    if reached_any(reached, ENDED):
        raise Conflict(f"the case is {current.value}: reopen it first (with a reason)")
    if milestone in _REASONS and not _given(reason):
        raise Invalid(_REASONS[milestone])
    if milestone is M.MITIGATED and M.DEPLOYMENT_STARTED in reached:
        raise Conflict(
            "a rollout is deploying the fix: it records mitigated when the fix runs everywhere"
        )
    if milestone is M.CLOSED:
        missing = [m.value for m in (M.MITIGATED, M.CUSTOMERS_NOTIFIED) if m not in reached]
        if missing:
            raise Conflict(
                "a case is closed once it is mitigated and its customers were told (or need not "
                f"be); missing: {', '.join(missing)} — reject it instead if it is no "
                "vulnerability",
                missing=missing,
            )
    if milestone is M.REJECTED:
        contradicting = [
            m.value
            for m in (
                M.DEPLOYMENT_STARTED,
                M.MITIGATED,
                M.CUSTOMERS_NOTIFIED,
                M.DISCLOSURE_APPROVED,
                M.PUBLIC,
                M.CVE_PUBLISHED,
            )
            if m in reached
        ]
        if contradicting:
            raise Conflict(
                f"the case cannot be rejected: it has {', '.join(contradicting)}; close it instead",
                contradicting=contradicting,
            )
    if milestone is M.CUSTOMERS_NOTIFIED and M.MITIGATED not in reached:
        raise Conflict(
            "a case is notified once it is mitigated; record the mitigation first (the "
            "rollout does when the fix runs everywhere)"
        )
    implied = tuple(Record(m) for m in _IMPLIED.get(milestone, ()) if m not in reached)
    return Move(record=(*implied, Record(milestone)), reason_needed=milestone in _REASONS)


# How the case page names each hand move.
HAND_LABELS: dict[CaseState, str] = {
    S.TRIAGING: "Acknowledge",
    S.REMEDIATING: "Triaged: remediate",
    S.MITIGATED: "Mitigated without a deployment",
    S.NOTIFIED: "No customer needs telling",
    S.CLOSED: "Close",
    S.REJECTED: "Reject",
}


def moves_open(reached: Collection[Milestone]) -> list[CaseState]:
    """The hand moves the facts allow now (each records a milestone not yet reached)."""
    found = []
    for target, milestone in HAND_TARGETS.items():
        if milestone in reached:
            continue
        try:
            hand_move(reached, target, reason="given")
        except (Conflict, Invalid):
            continue
        found.append(target)
    return found


def reopen(reached: Collection[Milestone], *, reason: str | None) -> Move:
    """Reopen a closed or rejected case: the end is cleared and the other facts stand."""
    if not reached_any(reached, ENDED):
        raise Conflict(
            f"only a closed or rejected case is reopened; this one is {derive_state(reached).value}"
        )
    if not _given(reason):
        raise Invalid("say why the case is reopened: give a reason")
    return Move(clear=tuple(m for m in (M.CLOSED, M.REJECTED) if m in reached), reason_needed=True)


def deployed(reached: Collection[Milestone]) -> Move:
    """What a rollout that runs the fix everywhere records, whatever the state was: mitigated,
    and the milestones the case skipped on the way, recorded as skipped."""
    skipped = (M.ACKNOWLEDGED, M.TRIAGED, M.FIX_READY)
    return Move(
        record=(
            *(Record(m, skipped=True) for m in skipped if m not in reached),
            Record(M.MITIGATED),
        )
    )


def reached_any(reached: Collection[Milestone], wanted: Collection[Milestone]) -> bool:
    return any(m in reached for m in wanted)
