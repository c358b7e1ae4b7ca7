"""The health gates' statistics: anytime-valid under continuous monitoring, quick to catch a real
regression, and never a pass without data."""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from vulnops.rollout import evidence, gates
from vulnops.rollout.gates import VerdictKind
from vulnops.rollout.policy import GateRules, load_policies
from vulnops.rollout.samples import UnitSample, Window

RULES = load_policies()["standard"].gates
NULL_RUNS = 2000
LOOKS = 40
BURST = 0.002


class FleetNoise:
    """Units with their own error rates and latencies, traffic that drifts differently for the
    two groups (as regions go through their day), and short bursts of unrelated errors."""

    def __init__(self, rng: np.random.Generator, updated: int, control: int) -> None:
        self.rng = rng
        self.updated, self.control = updated, control
        units = updated + control
        self.rates = 0.004 * rng.lognormal(0, 0.4, units)
        self.latency = 80 * rng.lognormal(0, 0.25, units)
        self.traffic = 20_000 * rng.lognormal(0, 0.5, units)
        self.phase = rng.uniform(0, 2 * math.pi, 2)

    def window(
        self, step: int, *, errors: float = 1.0, latency: float = 1.0, crashes: float = 0.0
    ) -> Window:
        rng, n = self.rng, self.updated + self.control
        day = np.where(
            np.arange(n) < self.updated,
            1 + 0.4 * math.sin(step / 30 + self.phase[0]),
            1 + 0.4 * math.sin(step / 30 + self.phase[1]),
        )
        requests = rng.poisson(self.traffic * day)
        effect = np.where(np.arange(n) < self.updated, errors, 1.0)
        error_counts = rng.poisson(requests * self.rates * effect)
        bursts = rng.random(n) < BURST
        error_counts = error_counts + np.where(bursts, rng.poisson(requests * 0.05), 0)
        slow = np.where(np.arange(n) < self.updated, latency, 1.0)
        latencies = self.latency * slow * rng.lognormal(0, 0.02, n)
        crash_counts = rng.poisson(
            requests * np.where(np.arange(n) < self.updated, crashes, 0.0) + 1e-7
        )
        samples = {
            unit: UnitSample(
                requests=float(requests[unit]),
                errors=float(error_counts[unit]),
                crashes=float(crash_counts[unit]),
                latency_ms=float(latencies[unit]),
            )
            for unit in range(n)
        }
        return Window(
            updated={u: samples[u] for u in range(self.updated)},
            control={u: samples[u] for u in range(self.updated, n)},
        )

    def start(self, rules: GateRules) -> gates.GateState:
        return gates.start([self.window(-10 + i) for i in range(10)], rules)


def _run(
    seed: int, rules: GateRules = RULES, looks: int = LOOKS, **effect: float
) -> tuple[VerdictKind, int]:
    """Look after every interval, never stopping early on a pass: the first failure, or the last
    verdict."""
    rng = np.random.default_rng(seed)
    noise = FleetNoise(rng, updated=int(rng.integers(1, 5)), control=20)
    state = noise.start(rules)
    verdict = gates.verdict(state, rules, baked=True, has_control=True)
    for look in range(looks):
        state = gates.update(state, noise.window(look, **effect), rules)
        verdict = gates.verdict(state, rules, baked=True, has_control=True)
        if verdict.kind is VerdictKind.FAIL:
            return verdict.kind, look
    return verdict.kind, looks


def test_false_alarms_stay_below_alpha_however_often_the_gate_looks() -> None:
    # Independent runs, so they may share the machine's cores (forked: the module is loaded).
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        outcomes = [kind for kind, _ in pool.map(_run, range(NULL_RUNS), chunksize=50)]
    false_alarms = outcomes.count(VerdictKind.FAIL)
    # The bound the policy promises: a false alarm in at most alpha of the runs. (The gate is
    # conservative — none in these 2,000 — so the observed share is asserted against alpha
    # itself, not alpha plus sampling slack.)
    assert false_alarms <= RULES.alpha * NULL_RUNS
    # And a good release is shown good: most gates pass within the looks.
    assert outcomes.count(VerdictKind.PASS) >= 0.9 * NULL_RUNS


@pytest.mark.parametrize(
    ("effect", "metric"),
    [
        ({"errors": 2.0}, "errors"),
        ({"errors": 5.0}, "errors"),
        ({"latency": 1.2}, "latency"),
        ({"crashes": 2e-4}, "crashes"),
    ],
)
def test_a_regression_is_caught_every_time(effect: dict[str, float], metric: str) -> None:
    for seed in range(50):
        kind, look = _run(10_000 + seed, **effect)
        assert kind is VerdictKind.FAIL, (seed, kind)
        assert look < LOOKS
    rng = np.random.default_rng(1)
    noise = FleetNoise(rng, updated=2, control=20)
    state = noise.start(RULES)
    for look in range(LOOKS):
        state = gates.update(state, noise.window(look, **effect), RULES)
        verdict = gates.verdict(state, RULES, baked=True, has_control=True)
        if verdict.kind is VerdictKind.FAIL:
            assert verdict.reason.startswith(metric)
            return
    raise AssertionError("not caught")


def test_no_data_or_too_little_traffic_never_passes() -> None:
    rng = np.random.default_rng(3)
    noise = FleetNoise(rng, updated=2, control=20)
    state = noise.start(RULES)
    assert gates.verdict(state, RULES, baked=True, has_control=True).kind is VerdictKind.HOLD
    empty = Window(updated={}, control=noise.window(0).control)
    for _ in range(100):
        state = gates.update(state, empty, RULES)
    held = gates.verdict(state, RULES, baked=True, has_control=True)
    assert held.kind is VerdictKind.HOLD and "no data" in held.reason
    trickle = Window(updated={0: UnitSample(requests=5, errors=0, latency_ms=80)}, control={})
    for _ in range(100):
        state = gates.update(state, trickle, RULES)
    verdict = gates.verdict(state, RULES, baked=True, has_control=False)
    assert verdict.kind is VerdictKind.PENDING and "requests" in verdict.reason


def test_a_stage_does_not_pass_before_its_bake_nor_without_evidence() -> None:
    rng = np.random.default_rng(5)
    noise = FleetNoise(rng, updated=3, control=20)
    state = noise.start(RULES)
    for look in range(LOOKS):
        state = gates.update(state, noise.window(look), RULES)
    assert gates.verdict(state, RULES, baked=True, has_control=True).kind is VerdictKind.PASS
    early = gates.verdict(state, RULES, baked=False, has_control=True)
    assert early.kind is VerdictKind.PENDING and "bake" in early.reason
    quiet = FleetNoise(np.random.default_rng(6), updated=1, control=20)
    quiet.traffic /= 10  # about 2,000 requests and 8 errors a unit: too few to show anything
    few = gates.update(quiet.start(RULES), quiet.window(0), RULES)
    few = gates.update(few, quiet.window(1), RULES)
    pending = gates.verdict(few, RULES, baked=True, has_control=True)
    assert pending.kind is VerdictKind.PENDING and "errors are below" in pending.reason


def test_the_state_survives_json() -> None:
    rng = np.random.default_rng(7)
    noise = FleetNoise(rng, updated=2, control=10)
    state = noise.start(RULES)
    for look in range(5):
        state = gates.update(state, noise.window(look), RULES)
    again = gates.GateState.from_json(state.to_json())
    assert np.array_equal(again.errors.fail, state.errors.fail)
    assert np.array_equal(again.errors.passing, state.errors.passing)
    assert again.latency == state.latency and again.error_rates == state.error_rates
    assert gates.verdict(again, RULES, baked=True, has_control=True) == gates.verdict(
        state, RULES, baked=True, has_control=True
    )


def test_a_unit_left_out_of_the_evidence_counts_in_the_crashes_only() -> None:
    rng = np.random.default_rng(11)
    noise = FleetNoise(rng, updated=3, control=10)
    state = noise.start(RULES)
    plain = ruined = state
    for look in range(20):
        window = noise.window(look)
        plain = gates.update(plain, window, RULES)
        # Unit 0 misbehaves: 40% errors and a crash each interval. Left out of the evidence
        # (watched), its errors change nothing; its crashes still count.
        bad = UnitSample(requests=20_000, errors=8_000, crashes=1, latency_ms=900)
        watched = Window(
            updated={u: s for u, s in window.updated.items() if u != 0},
            control=window.control,
            watched={0: bad},
        )
        ruined = gates.update(ruined, watched, RULES)
    assert ruined.crashes.updated == plain.crashes.updated + 20
    # Its errors are not in the evidence (counted, even capped, they would exceed unit 0's own).
    assert ruined.errors.updated < plain.errors.updated
    assert ruined.requests_updated < plain.requests_updated
    assert ruined.latency.baseline == plain.latency.baseline


def test_unusual_units_are_named_and_a_restarted_gate_keeps_its_baseline() -> None:
    rng = np.random.default_rng(5)
    noise = FleetNoise(rng, updated=3, control=10)
    state = noise.start(RULES)
    window = noise.window(0)
    rate = state.error_rates["1"]
    odd = Window(
        updated={
            0: UnitSample(requests=0),
            1: UnitSample(requests=10_000, errors=10_000 * rate * 50 + 100),
            2: window.updated[2],
        },
        control=window.control,
    )
    assert gates.unusual_units(odd, state.error_rates) == ([0], [1])
    for look in range(5):
        state = gates.update(state, noise.window(look), RULES)
    again = gates.restarted(state, RULES, "without unit 1")
    assert (again.intervals, again.requests_updated, again.notes[-1]) == (0, 0.0, "without unit 1")
    assert again.error_rates == state.error_rates and again.errors.rho == state.errors.rho
    assert not again.errors.fail.any() and not again.errors.passing.any()


def test_one_burst_takes_at_most_log_two_from_the_pass_evidence_and_a_good_stage_passes() -> None:
    rng = np.random.default_rng(21)
    noise = FleetNoise(rng, updated=3, control=20)
    state = noise.start(RULES)
    for look in range(5):
        state = gates.update(state, noise.window(look), RULES)
    before = state.errors.passing.copy()
    window = noise.window(5)
    burst = dict(window.updated)
    burst[0] = burst[0]._replace(errors=burst[0].requests * 0.5)  # half its requests fail
    state = gates.update(state, Window(updated=burst, control=window.control), RULES)
    lost = before - state.errors.passing
    assert lost.max() <= math.log(1 / (1 - evidence.PASS_MIX)) + 1e-9
    for look in range(6, 60):
        state = gates.update(state, noise.window(look), RULES)
    assert gates.verdict(state, RULES, baked=True, has_control=True).kind is VerdictKind.PASS


def test_the_bounded_pass_factor_is_a_supermartingale_at_the_margin() -> None:
    """Under the pass test's null (the ratio at the margin), each interval's factor has mean at
    most 1 for every alternative on the grid — what Ville's inequality needs."""
    rng = np.random.default_rng(3)
    g = evidence.grids(RULES)
    share, rho, events = 0.2, 1.0, 60
    odds = RULES.error_margin * rho * share / (1 - share)
    p_margin = odds / (1 + odds)
    updated = rng.binomial(events, p_margin, 40_000)
    factors = np.exp(
        [
            evidence._bounded(
                evidence._count_loglik(u, events - u, share, rho, g.ratio), g.error_margin
            )
            for u in updated
        ]
    )
    means = factors.mean(axis=0)
    # Monte Carlo error over 40,000 draws is far below 2%; the alternatives below the margin
    # (those the pass test bets on) have factors of mean at most 1.
    assert means[: g.error_margin].max() <= 1.02
    assert factors.min() >= 1 - evidence.PASS_MIX - 1e-12
