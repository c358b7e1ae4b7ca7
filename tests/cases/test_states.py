from __future__ import annotations

import itertools

import pytest

from vulnops.cases.states import TRANSITIONS, CaseState, check_transition
from vulnops.errors import Conflict, Invalid


def test_the_happy_path_is_allowed() -> None:
    path = ["new", "triaging", "remediating", "deploying", "mitigated", "notified", "disclosed"]
    for current, target in itertools.pairwise(path):
        check_transition(CaseState(current), CaseState(target), reason=None)
    check_transition(CaseState.DISCLOSED, CaseState.CLOSED, reason="done")


def test_an_illegal_move_names_the_allowed_ones() -> None:
    with pytest.raises(Conflict) as caught:
        check_transition(CaseState.NEW, CaseState.DISCLOSED, reason=None)
    assert caught.value.extra["allowed"] == ["rejected", "triaging"]
    assert "allowed: rejected, triaging" in caught.value.detail


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("new", "rejected"),
        ("mitigated", "closed"),
        ("closed", "triaging"),
        ("rejected", "triaging"),
    ],
)
def test_ending_or_reopening_needs_a_reason(current: str, target: str) -> None:
    with pytest.raises(Invalid, match="reason"):
        check_transition(CaseState(current), CaseState(target), reason="  ")
    check_transition(CaseState(current), CaseState(target), reason="because")


def test_every_state_has_a_way_on() -> None:
    assert set(TRANSITIONS) == set(CaseState)
    assert all(TRANSITIONS[state] for state in CaseState)
