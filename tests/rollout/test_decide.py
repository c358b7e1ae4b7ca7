"""``decide`` (pure): the next actions of a rollout from its recorded state and the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vulnops.rollout import decide as d
from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.plan import StageKind
from vulnops.rollout.policy import PolicyError, load_policies, parse_policies

POLICIES = load_policies()
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
S, U = d.StageStatus, d.UnitStatus


def _view(
    stages: list[d.StageView],
    units: list[d.UnitView],
    *,
    status: d.RolloutStatus = d.RolloutStatus.RUNNING,
    policy: str = "standard",
) -> d.RolloutView:
    return d.RolloutView(status=status, policy=POLICIES[policy], stages=stages, units=units)


def _stage(index: int, status: d.StageStatus, **extra: object) -> d.StageView:
    kind = [StageKind.CANARY, StageKind.PILOT][index] if index < 2 else StageKind.WAVE
    return d.StageView(index=index, kind=kind, status=status, **extra)  # type: ignore[arg-type]


def test_a_new_rollout_begins_its_first_stage() -> None:
    view = _view([_stage(0, S.PENDING), _stage(1, S.PENDING)], [d.UnitView(1, 0, U.PENDING)])
    assert d.decide(view, NOW) == [d.BeginStage(0)]


def test_a_stage_deploys_at_most_max_parallel_units_and_respects_retry_times() -> None:
    units = [d.UnitView(i, 0, U.PENDING) for i in range(1, 31)]
    units[0] = d.UnitView(1, 0, U.PENDING, attempts=1, retry_at=NOW + timedelta(seconds=30))
    actions = d.decide(_view([_stage(0, S.DEPLOYING)], units), NOW)
    assert actions == [d.Deploy(tuple(range(2, 22)))]  # 20 at most, unit 1 waits for its retry
    only_waiting = [units[0]] + [d.UnitView(i, 0, U.DEPLOYED) for i in range(2, 31)]
    waiting = d.decide(_view([_stage(0, S.DEPLOYING)], only_waiting), NOW)
    assert waiting == [d.Wait("retrying a deployment", NOW + timedelta(seconds=30))]


def test_a_unit_that_could_not_be_deployed_halts_the_rollout() -> None:
    units = [d.UnitView(1, 0, U.DEPLOYED), d.UnitView(2, 0, U.FAILED, attempts=3)]
    [action] = d.decide(_view([_stage(0, S.DEPLOYING)], units), NOW)
    assert isinstance(action, d.Halt) and "unit 2" in action.reason


def test_a_deployed_stage_bakes_then_passes_only_after_its_bake() -> None:
    units = [d.UnitView(1, 0, U.DEPLOYED), d.UnitView(2, 1, U.PENDING)]
    assert d.decide(_view([_stage(0, S.DEPLOYING), _stage(1, S.PENDING)], units), NOW) == [
        d.StartBaking(0)
    ]
    baking = _stage(0, S.BAKING, baking_since=NOW, verdict=VerdictKind.PASS, verdict_reason="ok")
    actions = d.decide(_view([baking, _stage(1, S.PENDING)], units), NOW + timedelta(minutes=5))
    assert actions == [d.Wait("stage 1 is baking", NOW + timedelta(minutes=30))]
    later = d.decide(_view([baking, _stage(1, S.PENDING)], units), NOW + timedelta(minutes=30))
    assert later == [d.PassStage(0, "ok")]


def test_a_failed_gate_fails_the_stage_even_while_it_deploys() -> None:
    units = [d.UnitView(1, 0, U.DEPLOYED), d.UnitView(2, 0, U.PENDING)]
    deploying = _stage(0, S.DEPLOYING, verdict=VerdictKind.FAIL, verdict_reason="errors")
    assert d.decide(_view([deploying], units), NOW) == [d.FailStage(0, "errors")]


def test_a_halted_rollout_rolls_back_the_failed_stage_only() -> None:
    stages = [_stage(0, S.PASSED), _stage(1, S.FAILED), _stage(2, S.PENDING)]
    units = [
        d.UnitView(1, 0, U.DEPLOYED),
        d.UnitView(2, 1, U.DEPLOYED),
        d.UnitView(3, 1, U.ROLLED_BACK),
        d.UnitView(4, 2, U.PENDING),
    ]
    view = _view(stages, units, status=d.RolloutStatus.HALTED)
    assert d.decide(view, NOW) == [d.RollBack((2,))]
    settled = _view(
        stages,
        [*units[:1], d.UnitView(2, 1, U.ROLLED_BACK), *units[2:]],
        status=d.RolloutStatus.HALTED,
    )
    assert d.decide(settled, NOW) == []  # nothing more until someone acts


def test_rolling_back_returns_every_changed_unit_then_finishes() -> None:
    stages = [_stage(0, S.PASSED), _stage(1, S.BAKING, baking_since=NOW)]
    units = [
        d.UnitView(1, 0, U.DEPLOYED),
        d.UnitView(2, 1, U.DEPLOYED),
        d.UnitView(3, 1, U.PENDING),
    ]
    view = _view(stages, units, status=d.RolloutStatus.ROLLING_BACK)
    assert d.decide(view, NOW) == [d.RollBack((1, 2))]
    done = [d.UnitView(1, 0, U.ROLLED_BACK), d.UnitView(2, 1, U.ROLLED_BACK), units[2]]
    assert d.decide(_view(stages, done, status=d.RolloutStatus.ROLLING_BACK), NOW) == [
        d.FinishRollback()
    ]
    stuck = [d.UnitView(1, 0, U.ROLLBACK_FAILED), *done[1:]]
    assert d.decide(_view(stages, stuck, status=d.RolloutStatus.ROLLING_BACK), NOW) == []


def test_units_left_mid_change_are_reconciled_before_anything_else() -> None:
    units = [d.UnitView(1, 0, U.DEPLOYING), d.UnitView(2, 0, U.PENDING)]
    assert d.decide(_view([_stage(0, S.DEPLOYING)], units), NOW) == [d.Reconcile((1,))]


def test_watched_stages_let_the_next_one_begin_and_all_must_pass_to_complete() -> None:
    units = [
        d.UnitView(1, 0, U.DEPLOYED),
        d.UnitView(2, 1, U.DEPLOYED),
        d.UnitView(3, 2, U.PENDING),
    ]
    stages = [
        _stage(0, S.PASSED),
        _stage(1, S.BAKING, baking_since=NOW, verdict=VerdictKind.PENDING),
        _stage(2, S.PENDING),
    ]
    assert d.decide(_view(stages, units, policy="emergency"), NOW) == [d.BeginStage(2)]
    assert d.decide(_view(stages, units, policy="standard"), NOW)[0] == d.Wait(
        "stage 2 is baking", NOW + timedelta(minutes=30)
    )
    all_passed = [_stage(i, S.PASSED) for i in range(3)]
    assert d.decide(_view(all_passed, units, policy="emergency"), NOW) == [d.Complete()]


def test_a_gate_without_a_verdict_for_long_alerts_once() -> None:
    holding = _stage(
        0,
        S.BAKING,
        baking_since=NOW,
        verdict=VerdictKind.HOLD,
        verdict_reason="no data",
        holding_since=NOW,
    )
    units = [d.UnitView(1, 0, U.DEPLOYED)]
    late = NOW + timedelta(minutes=30) + timedelta(minutes=15)
    actions = d.decide(_view([holding], units), late)
    assert isinstance(actions[0], d.Alert) and "no data" in actions[0].reason
    alerted = _stage(
        0, S.BAKING, baking_since=NOW, verdict=VerdictKind.HOLD, holding_since=NOW, alerted=True
    )
    assert not any(isinstance(a, d.Alert) for a in d.decide(_view([alerted], units), late))


def test_a_stage_held_past_max_hold_says_so_once_and_an_extension_restarts_the_clock() -> None:
    policy = POLICIES["standard"]
    bake_over = NOW + timedelta(minutes=30)  # the canary bakes 30 minutes
    held = {
        "baking_since": NOW,
        "verdict": VerdictKind.PENDING,
        "verdict_reason": "waiting for evidence",
        "holding_since": NOW,
        "alerted": True,
    }
    units = [d.UnitView(1, 0, U.DEPLOYED)]
    just_before = bake_over + policy.gates.max_hold - timedelta(seconds=1)
    assert not any(
        isinstance(a, d.HoldExpired)
        for a in d.decide(_view([_stage(0, S.BAKING, **held)], units), just_before)
    )
    actions = d.decide(
        _view([_stage(0, S.BAKING, **held)], units), bake_over + policy.gates.max_hold
    )
    assert isinstance(actions[0], d.HoldExpired) and actions[0].stage == 0
    assert "waiting for evidence" in actions[0].reason
    # Never a pass: the stage goes on baking (the rollout pages or halts, by the policy).
    assert not any(isinstance(a, d.PassStage) for a in actions)
    reached = _stage(0, S.BAKING, **held, max_hold_reached=True)
    later = bake_over + policy.gates.max_hold * 2
    assert not any(isinstance(a, d.HoldExpired) for a in d.decide(_view([reached], units), later))
    # Extended by a person: the clock runs from the extension's end, alert first, then max_hold.
    extended_until = later
    extended = _stage(0, S.BAKING, **{**held, "alerted": False}, extended_until=extended_until)
    alert_at = extended_until + policy.gates.hold_alert_after
    assert d.decide(_view([extended], units), alert_at - timedelta(seconds=1))[0] == d.Wait(
        "stage 1 is baking", None
    )
    assert isinstance(d.decide(_view([extended], units), alert_at)[0], d.Alert)
    assert isinstance(
        d.decide(_view([extended], units), extended_until + policy.gates.max_hold)[0],
        d.HoldExpired,
    )


def test_a_policy_refuses_a_max_hold_shorter_than_its_alert() -> None:
    body = {
        "canary": {"bake": "30m"},
        "pilot": {"bake": "30m"},
        "waves": {"bake": "15m"},
        "wave_shares": [1.0],
        "gates": {"hold_alert_after": "30m", "max_hold": "10m"},
    }
    with pytest.raises(PolicyError, match="max_hold must be at least hold_alert_after"):
        parse_policies({"short": body})
    assert (
        parse_policies({"ok": {**body, "gates": {"on_max_hold": "halt"}}})["ok"].gates.on_max_hold
        == "halt"
    )


def test_paused_and_waiting_rollouts_do_nothing() -> None:
    units = [d.UnitView(1, 0, U.PENDING)]
    for status in (d.RolloutStatus.PAUSED, d.RolloutStatus.AWAITING_APPROVAL):
        assert d.decide(_view([_stage(0, S.PENDING)], units, status=status), NOW) == []
