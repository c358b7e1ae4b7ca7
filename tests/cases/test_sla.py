from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vulnops.cases.severity import Rating
from vulnops.cases.sla import Deadline, PolicyError, load_policy, overdue, parse_policy

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_the_shipped_policy_loads_and_tightens_with_severity() -> None:
    policy = load_policy()
    critical = policy.deadlines(Rating.CRITICAL, T0)
    low = policy.deadlines(Rating.LOW, T0)
    assert critical[Deadline.ACKNOWLEDGE] == T0 + timedelta(hours=1)
    assert critical[Deadline.MITIGATE] == T0 + timedelta(hours=24)
    for milestone in Deadline:
        assert critical[milestone] < low[milestone]
    unrated = policy.deadlines(None, T0)
    assert Deadline.MITIGATE not in unrated


def _policy(**override: object) -> dict[str, object]:
    document: dict[str, object] = {
        rating: {"acknowledge": "1h", "triage": "2h", "mitigate": "3h"}
        for rating in ("critical", "important", "moderate", "low")
    }
    document["unrated"] = {"acknowledge": "4h"}
    document.update(override)
    return document


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"severe": {"acknowledge": "1h"}}, "unknown rating"),
        ({"low": {"acknowledge": "1h", "respond": "2h"}}, "unknown milestone"),
        ({"low": {"acknowledge": "-1h"}}, "low.acknowledge"),
        ({"low": {"acknowledge": "0h"}}, "must be positive"),
        ({"low": {"acknowledge": "soon"}}, "not a duration"),
        ({"low": "fast"}, "low: expected"),
    ],
)
def test_a_bad_policy_says_where(override: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(_policy(**override))


def test_a_missing_rating_is_an_error() -> None:
    document = _policy()
    del document["low"]
    with pytest.raises(PolicyError, match="no deadlines for"):
        parse_policy(document)


def test_a_policy_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text("critical: [unclosed\n")
    with pytest.raises(PolicyError, match=str(path)):
        load_policy(path)


def test_overdue_is_a_deadline_passed_before_its_milestone() -> None:
    deadlines = {Deadline.ACKNOWLEDGE: T0, Deadline.TRIAGE: T0 + timedelta(hours=5)}
    now = T0 + timedelta(hours=1)
    assert overdue(deadlines, {}, now) == [Deadline.ACKNOWLEDGE]
    on_time = {Deadline.ACKNOWLEDGE: T0 - timedelta(minutes=1)}
    assert overdue(deadlines, on_time, now) == []
    late = {Deadline.ACKNOWLEDGE: T0 + timedelta(minutes=1)}
    assert overdue(deadlines, late, now) == [Deadline.ACKNOWLEDGE]
