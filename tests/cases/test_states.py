"""The case lifecycle's pure core: the state derived from milestones, and a person's moves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulnops.cases.states import (
    ENDED,
    HAND_TARGETS,
    PRECEDENCE,
    RECORDED_BY,
    CaseState,
    Milestone,
    deployed,
    derive_state,
    hand_move,
    moves_open,
    reopen,
)
from vulnops.errors import Conflict, Invalid

M, S = Milestone, CaseState
# What each state says about the milestones: those it needs and those it rules out (the
# specification the derived state is checked against).
IMPLIES: dict[CaseState, tuple[frozenset[Milestone], frozenset[Milestone]]] = {
    S.NEW: (frozenset(), frozenset({M.ACKNOWLEDGED, *ENDED, M.PUBLIC})),
    S.TRIAGING: (frozenset({M.ACKNOWLEDGED}), frozenset({M.TRIAGED, *ENDED, M.PUBLIC})),
    S.REMEDIATING: (
        frozenset({M.TRIAGED}),
        frozenset({M.DEPLOYMENT_STARTED, M.MITIGATED, *ENDED, M.PUBLIC}),
    ),
    S.DEPLOYING: (frozenset({M.DEPLOYMENT_STARTED}), frozenset({M.MITIGATED, *ENDED, M.PUBLIC})),
    S.MITIGATED: (frozenset({M.MITIGATED}), frozenset({M.CUSTOMERS_NOTIFIED, *ENDED, M.PUBLIC})),
    S.NOTIFIED: (frozenset({M.MITIGATED, M.CUSTOMERS_NOTIFIED}), frozenset({*ENDED, M.PUBLIC})),
    S.DISCLOSED: (frozenset({M.PUBLIC}), ENDED),
    S.CLOSED: (frozenset({M.CLOSED}), frozenset({M.REJECTED})),
    S.REJECTED: (frozenset({M.REJECTED}), frozenset()),
}
# The milestones that are a person's decisions: nothing else may be recorded by hand.
BY_HAND = frozenset(
    {M.ACKNOWLEDGED, M.TRIAGED, M.MITIGATED, M.CUSTOMERS_NOTIFIED, M.CLOSED, M.REJECTED}
)
# What the code (not a person) records or clears, as the domains do.
SYSTEM = [M.FIX_READY, M.DEPLOYMENT_STARTED, M.CUSTOMERS_NOTIFIED, M.DISCLOSURE_APPROVED, M.PUBLIC]
CLEARED_BY_CODE = [M.FIX_READY, M.DEPLOYMENT_STARTED, M.MITIGATED]


def _rank(state: CaseState) -> int:
    """How far along a state is (rejected and closed count as the furthest)."""
    order = [state for _, state in reversed(PRECEDENCE)]
    return order.index(state) + 1 if state in order else 0


def _consistent(reached: set[Milestone]) -> None:
    state = derive_state(reached)
    needed, ruled_out = IMPLIES[state]
    assert needed <= reached, f"{state} without {needed - reached}"
    assert not ruled_out & reached, f"{state} with {ruled_out & reached}"


operation = st.one_of(
    st.tuples(st.just("record"), st.sampled_from(SYSTEM)),
    st.tuples(st.just("clear"), st.sampled_from(CLEARED_BY_CODE)),
    st.tuples(st.just("deployed"), st.none()),
    st.tuples(st.just("hand"), st.sampled_from(list(CaseState))),
    st.tuples(st.just("reopen"), st.none()),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(operation, st.sampled_from([None, "", "  ", "because"])), max_size=40))
def test_the_derived_state_never_contradicts_a_milestone(
    steps: list[tuple[tuple[str, object], str | None]],
) -> None:
    reached: set[Milestone] = {M.REPORTED}
    for (kind, arg), reason in steps:
        try:
            if kind == "record":
                assert isinstance(arg, Milestone)
                reached.add(arg)
            elif kind == "clear":
                assert isinstance(arg, Milestone)
                reached.discard(arg)
            elif kind == "deployed":
                reached |= {item.milestone for item in deployed(reached).record}
            elif kind == "hand":
                assert isinstance(arg, CaseState)
                move = hand_move(reached, arg, reason=reason)
                recorded = {item.milestone for item in move.record}
                assert recorded <= BY_HAND, "a person recorded what only the code may"
                reached |= recorded
                assert _rank(derive_state(reached)) >= _rank(arg)
            else:
                reached -= set(reopen(reached, reason=reason).clear)
        except (Conflict, Invalid):
            pass
        assert derive_state(reached) in set(CaseState)
        _consistent(reached)


@pytest.mark.parametrize(
    ("reached", "state"),
    [
        (set(), S.NEW),
        ({M.ACKNOWLEDGED}, S.TRIAGING),
        ({M.ACKNOWLEDGED, M.TRIAGED, M.FIX_READY}, S.REMEDIATING),
        ({M.TRIAGED, M.DEPLOYMENT_STARTED}, S.DEPLOYING),
        ({M.DEPLOYMENT_STARTED, M.MITIGATED}, S.MITIGATED),
        ({M.MITIGATED, M.CUSTOMERS_NOTIFIED}, S.NOTIFIED),
        # Customers told before the fix is out: the case is still deploying.
        ({M.DEPLOYMENT_STARTED, M.CUSTOMERS_NOTIFIED}, S.DEPLOYING),
        # Approved for a date still ahead (embargo): not disclosed yet.
        ({M.MITIGATED, M.CUSTOMERS_NOTIFIED, M.DISCLOSURE_APPROVED}, S.NOTIFIED),
        ({M.MITIGATED, M.CUSTOMERS_NOTIFIED, M.DISCLOSURE_APPROVED, M.PUBLIC}, S.DISCLOSED),
        ({M.MITIGATED, M.PUBLIC, M.CLOSED}, S.CLOSED),
        ({M.ACKNOWLEDGED, M.REJECTED}, S.REJECTED),
    ],
)
def test_the_furthest_fact_gives_the_state(reached: set[Milestone], state: CaseState) -> None:
    assert derive_state({M.REPORTED, *reached}) is state


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (S.DEPLOYING, "the rollout"),
        (S.DISCLOSED, "disclosure, when an approved disclosure's embargo ends"),
        (S.NEW, "nobody"),
    ],
)
def test_a_hand_move_to_a_derived_state_names_the_code_that_sets_it(
    target: CaseState, code: str
) -> None:
    with pytest.raises(Conflict) as refused:
        hand_move({M.REPORTED, M.ACKNOWLEDGED, M.TRIAGED}, target, reason="please")
    assert f"{target.value} is not set by hand" in refused.value.detail
    assert code in refused.value.detail


@pytest.mark.parametrize("target", [S.MITIGATED, S.NOTIFIED, S.CLOSED, S.REJECTED])
def test_decisions_that_end_or_bypass_something_need_a_reason(target: CaseState) -> None:
    reached = {M.REPORTED, M.ACKNOWLEDGED, M.TRIAGED, M.MITIGATED, M.CUSTOMERS_NOTIFIED}
    if target is S.REJECTED:
        reached = {M.REPORTED, M.ACKNOWLEDGED}
    with pytest.raises(Invalid, match=r"reason|say"):
        hand_move(reached - {HAND_TARGETS[target]}, target, reason="  ")
    move = hand_move(reached - {HAND_TARGETS[target]}, target, reason="because")
    assert move.record[-1].milestone is HAND_TARGETS[target]


def test_close_needs_the_fix_and_the_customers_and_reject_refuses_a_deployed_fix() -> None:
    with pytest.raises(Conflict) as refused:
        hand_move({M.REPORTED, M.ACKNOWLEDGED, M.TRIAGED}, S.CLOSED, reason="done")
    assert refused.value.extra["missing"] == ["mitigated", "customers_notified"]
    with pytest.raises(Conflict) as contradicted:
        hand_move({M.REPORTED, M.DEPLOYMENT_STARTED}, S.REJECTED, reason="not a bug")
    assert contradicted.value.extra["contradicting"] == ["deployment_started"]
    with pytest.raises(Conflict, match="a rollout is deploying"):
        hand_move({M.REPORTED, M.TRIAGED, M.DEPLOYMENT_STARTED}, S.MITIGATED, reason="config")
    with pytest.raises(Conflict, match="reopen it first"):
        hand_move({M.REPORTED, M.REJECTED}, S.REMEDIATING, reason=None)


def test_a_triage_brings_its_acknowledgment_and_a_deployment_records_what_was_skipped() -> None:
    triage = hand_move({M.REPORTED}, S.REMEDIATING, reason=None)
    assert [(r.milestone, r.skipped) for r in triage.record] == [
        (M.ACKNOWLEDGED, False),
        (M.TRIAGED, False),
    ]
    done = deployed({M.REPORTED, M.ACKNOWLEDGED, M.DEPLOYMENT_STARTED})
    assert [(r.milestone, r.skipped) for r in done.record] == [
        (M.TRIAGED, True),
        (M.FIX_READY, True),
        (M.MITIGATED, False),
    ]
    with pytest.raises(Conflict, match="disclosure_approved"):
        hand_move({M.REPORTED, M.ACKNOWLEDGED, M.DISCLOSURE_APPROVED}, S.REJECTED, reason="no")


def test_reopening_clears_the_end_only_and_needs_a_reason() -> None:
    with pytest.raises(Conflict, match="only a closed or rejected case"):
        reopen({M.REPORTED, M.ACKNOWLEDGED}, reason="again")
    with pytest.raises(Invalid):
        reopen({M.REPORTED, M.CLOSED}, reason="")
    assert reopen({M.REPORTED, M.MITIGATED, M.CLOSED}, reason="regressed").clear == (M.CLOSED,)


def test_the_page_offers_only_the_moves_the_facts_allow() -> None:
    assert moves_open({M.REPORTED}) == [S.TRIAGING, S.REMEDIATING, S.MITIGATED, S.REJECTED]
    notified = {M.REPORTED, M.ACKNOWLEDGED, M.TRIAGED, M.MITIGATED, M.CUSTOMERS_NOTIFIED}
    assert moves_open(notified) == [S.CLOSED]
    assert moves_open({M.REPORTED, M.CLOSED}) == []


def test_every_milestone_says_who_records_it() -> None:
    assert set(RECORDED_BY) == set(Milestone)
    assert set(IMPLIES) == set(CaseState)
    assert set(HAND_TARGETS.values()) == BY_HAND
