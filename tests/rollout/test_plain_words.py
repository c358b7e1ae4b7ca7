"""The rollout page in plain words: each stage's gate as sentences, its evidence charted over
time, and only the operations that can succeed offered (pure parts first, then the demo's own
rollouts driven to their end and read as a release manager sees them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from helpers import Clock, MakeUser, sign_in
from vulnops import demo
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.errors import Conflict
from vulnops.rollout import chart, explain, operations
from vulnops.rollout.controller import Controller
from vulnops.rollout.decide import RolloutStatus, possible_operations
from vulnops.rollout.models import Rollout, RolloutStage
from vulnops.rollout.policy import GateRules
from vulnops.settings import Settings

RULES = GateRules(alpha=0.01, error_margin=1.5, latency_margin=0.1, min_requests=1000)
EVIDENCE: dict[str, Any] = {
    "errors_fail_e": 1.0,
    "errors_pass_e": 20.0,  # 4 / alpha = 400 passes: log 20 / log 400 is half the way
    "crashes_fail_e": 0.5,
    "latency_fail_e": 1.0,
    "latency_pass_e": 400.0,
    "error_ratio": 0.97,
    "error_ratio_95": [0.8, 1.21],
    "latency_change": 0.012,
    "latency_change_95": [-0.004, 0.031],
    "errors_updated": 40,
    "errors_control": 400,
    "requests_updated": 48000.0,
    "intervals": 12,
    "missing": ["evidence that errors are below 1.5 times the control's"],
}


def _baking(**changed: Any) -> explain.StageView:
    fields: dict[str, Any] = {
        "index": 1,
        "kind": "pilot",
        "status": "baking",
        "verdict": "pending",
        "verdict_reason": "waiting for evidence that errors are below 1.5 times the control's",
        "evidence": EVIDENCE,
        "begun_at": None,
        "finished_at": None,
        "units": 4,
        "control_units": 26,
    }
    return explain.StageView(**{**fields, **changed})


def test_a_baking_stage_says_what_it_compares_measured_how_far_and_what_it_needs() -> None:
    said = explain.sentences(_baking(), RULES)
    assert said[0].startswith("Compares the 4 units of this stage with the 26 still on the old")
    assert said[1] == (
        "Measured so far: errors at 0.97 times the old version's rate (95% interval 0.80 to "
        "1.21); latency +1.2% (95% interval -0.4% to +3.1%), from 48,000 requests on the fix "
        "over 12 min."
    )
    assert "errors 50%, latency 100% of the way to a pass" in said[2]
    assert "errors 0%, crashes 0%, latency 0% of the way to a halt" in said[2]
    assert said[3] == "It still needs evidence that errors are below 1.5 times the control's."
    assert not any("e-value" in sentence for sentence in said)


def test_a_finished_stage_says_how_it_ended_and_after_how_long() -> None:
    began = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    failed = _baking(
        status="failed",
        verdict="fail",
        verdict_reason="errors: the updated units fail 2.90 times as often as before",
        begun_at=began,
        finished_at=began + timedelta(minutes=42),
    )
    said = explain.sentences(failed, RULES)
    assert said[0] == (
        "Failed after 42 min: errors: the updated units fail 2.90 times as often as before."
    )
    assert len(said) == 2 and said[1].startswith("Measured: errors at 0.97")
    assert explain.sentences(_baking(status="pending", evidence=None), RULES) == [
        "Waits for the stages before it; then 4 units get the fix."
    ]
    last = explain.sentences(
        _baking(control_units=0, verdict="hold", verdict_reason="no data"), RULES
    )
    assert last[0].startswith("No unit is left on the old version to compare with")
    assert last[-1] == "It holds: no data."


@pytest.mark.parametrize(
    ("e_value", "threshold", "percent"),
    [(1.0, 400.0, 0), (0.1, 400.0, 0), (20.0, 400.0, 50), (400.0, 400.0, 100), (1e9, 400.0, 100)],
)
def test_progress_is_the_e_value_on_a_log_scale_to_its_threshold(
    e_value: float, threshold: float, percent: int
) -> None:
    assert explain.progress(e_value, threshold) == percent


def test_the_history_is_thinned_to_its_limit_keeping_its_first_and_last_points() -> None:
    history: list[chart.Point] = []
    for second in range(1000):
        history = chart.appended(history, [float(second), 1.0, 0.9, 1.1, None, None, None], 50)
        assert len(history) <= 50
    assert history[0][0] == 0.0 and history[-1][0] == 999.0
    assert [p[0] for p in history] == sorted({p[0] for p in history})


def test_the_charts_draw_the_band_the_estimate_and_the_margins() -> None:
    assert (
        chart.charts([[0.0, 1, 0.5, 2, None, None, None]], error_margin=1.5, latency_margin=0.1)
        == []
    )
    history = [
        [60.0 * i, 1.0, 1 - 0.5 / (i + 1), 1 + 1 / (i + 1), 0.01, -0.05 / (i + 1), 0.07 / (i + 1)]
        for i in range(10)
    ]
    errors, latency = chart.charts(history, error_margin=1.5, latency_margin=0.1)
    assert len(errors.line.split()) == 10 and len(errors.band.split()) == 20
    first_x = float(errors.line.split()[0].split(",")[0])
    last_x = float(errors.line.split()[-1].split(",")[0])
    assert first_x == errors.left and last_x == errors.right
    no_change, margin = errors.references
    assert (no_change.label, margin.label, margin.dashed) == ("1x", "1.5x", True)
    assert margin.y < no_change.y  # a higher ratio is drawn higher
    assert errors.last == "1.00x (95%: 0.95 to 1.10)"
    assert latency.title == "Latency change" and latency.references[1].label == "+10%"
    assert errors.x_label == "minutes since the stage began (0 to 9)"
    [short, _] = chart.charts(history[:2], error_margin=1.5, latency_margin=0.1)
    assert short.x_label == "seconds since the stage began (0 to 60)"
    every_y = [float(xy.split(",")[1]) for xy in errors.band.split() + latency.band.split()]
    assert all(0 <= y <= errors.height for y in every_y)


def test_a_stage_that_compared_nothing_charts_no_error_ratio() -> None:
    watched = {**EVIDENCE, "errors_updated": 0, "errors_control": 0, "latency_change": None}
    points = [chart.point(60.0 * i, watched) for i in range(5)]
    assert all(p[1:4] == [None, None, None] for p in points)
    assert chart.charts(points, error_margin=1.5, latency_margin=0.1) == []
    compared = chart.point(30.0, EVIDENCE)
    assert compared[1:4] == [0.97, 0.8, 1.21] and compared[4] == 0.012


def test_only_the_operations_that_can_succeed_are_offered() -> None:
    def offered(status: RolloutStatus, **facts: bool) -> list[str]:
        return possible_operations(
            status.value,
            gate_failed=facts.get("gate_failed", False),
            service_busy=facts.get("service_busy", False),
        )

    assert offered(RolloutStatus.HALTED, gate_failed=True) == ["rollback", "abort"]
    assert offered(RolloutStatus.HALTED) == ["resume", "rollback", "abort"]
    assert offered(RolloutStatus.RUNNING) == ["pause", "rollback", "abort"]
    assert offered(RolloutStatus.AWAITING_APPROVAL) == ["approve", "reject", "abort"]
    assert offered(RolloutStatus.COMPLETED) == ["rollback"]
    assert offered(RolloutStatus.COMPLETED, service_busy=True) == []
    assert offered(RolloutStatus.ROLLED_BACK) == offered(RolloutStatus.ABORTED) == []


async def _demo_rollouts(db: Database, settings: Settings) -> dict[str, int]:
    """The demo's two rollouts driven to where they settle: the good one completed, the faulty
    one halted at canary by its gate."""
    await demo.seed(db)
    async with db.session() as session:
        found = {r.target_version: r.id for r in await session.scalars(select(Rollout))}
    clock = Clock(datetime.now(UTC))
    controller = Controller(database=db, settings=settings, clock=clock)
    for rollout_id in found.values():
        delay = await controller.tick(rollout_id)
        while delay is not None:
            clock.advance(delay)
            delay = await controller.tick(rollout_id)
    return {"good": found["2026.12.1"], "bad": found["2026.12.2"]}


async def test_every_operation_offered_succeeds_and_every_other_is_refused(
    db: Database, settings: Settings
) -> None:
    rollouts = await _demo_rollouts(db, settings)
    for rollout_id in rollouts.values():
        async with db.session() as session:
            rollout = await session.get(Rollout, rollout_id)
            assert rollout is not None
            failed = await session.scalar(
                select(RolloutStage.index).where(
                    RolloutStage.rollout_id == rollout_id, RolloutStage.status == "failed"
                )
            )
            offered = possible_operations(
                rollout.status, gate_failed=failed is not None, service_busy=False
            )
        for name in operations.OPERATIONS:
            async with db.session() as session:
                operate, _ = operations.named(name)
                try:
                    await operate(
                        session,
                        rollout_id=rollout_id,
                        actor="release@example.com",
                        now=datetime.now(UTC),
                        reason="a test",
                        settings=settings,
                    )
                    succeeded = True
                except Conflict:
                    succeeded = False
                await session.rollback()
            assert succeeded == (name in offered), (rollout_id, name, offered)


async def test_the_release_manager_reads_sentences_and_charts_and_is_offered_no_resume(
    client: httpx.AsyncClient, db: Database, settings: Settings, make_user: MakeUser
) -> None:
    rollouts = await _demo_rollouts(db, settings)
    release = await make_user(Role.RELEASE_MANAGER)
    await sign_in(client, release.email)

    bad = (await client.get(f"/rollouts/{rollouts['bad']}")).text
    assert f'action="/rollouts/{rollouts["bad"]}/rollback"' in bad
    assert f'action="/rollouts/{rollouts["bad"]}/abort"' in bad
    assert "/resume" not in bad and "/pause" not in bad
    assert "Stage 1 · canary" in bad and "Failed after" in bad
    assert "e-value" not in bad

    good = await client.get(f"/rollouts/{rollouts['good']}/live")
    assert good.status_code == 200 and "<html" not in good.text
    assert good.text.count('data-testid="stage"') >= 3
    assert good.text.count("Passed after") >= 3
    assert '<polyline class="estimate"' in good.text and "Error rate, updated" in good.text
    assert 'data-operations="rollback"' in good.text

    api = (await client.get(f"/api/rollouts/{rollouts['bad']}")).json()
    assert api["operations"] == ["rollback", "abort"]
    assert api["stages"][0]["explanation"][0].startswith("Failed after")
    assert len(api["stages"][0]["history"]) >= 2


async def test_a_completed_rollout_offers_no_rollback_while_another_of_its_service_runs(
    client: httpx.AsyncClient, db: Database, settings: Settings, make_user: MakeUser
) -> None:
    rollouts = await _demo_rollouts(db, settings)
    async with db.session() as session:
        good = await session.get(Rollout, rollouts["good"])
        assert good is not None
        await session.execute(
            update(Rollout)
            .where(Rollout.id == rollouts["bad"])
            .values(service_id=good.service_id, status="running", finished_at=None)
        )
        await session.commit()
    release = await make_user(Role.RELEASE_MANAGER)
    await sign_in(client, release.email)
    page = (await client.get(f"/rollouts/{rollouts['good']}/live")).text
    assert 'data-operations=""' in page and "/rollback" not in page
