"""A service's simulated fleet in memory, drawn a window at a time for every unit at once (pure).

The same model as ``model.sample`` — each unit's traffic follows its region's day, its own error
rate and latency from ``model.unit_profile``, bursts of unrelated errors, noisy units, faults of
the new release — but as numpy arrays over all units, because the rollout benchmark draws
thousands of windows of thousands of units and a call per unit and window would take hours.
``model.sample`` stays the one the demo's database-backed health source uses: it must give the
same numbers when a window is asked for twice, which costs a generator per unit and window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from vulnops.rollout.samples import Columns, Ids
from vulnops.sim import model

Vector = NDArray[np.float64]
NEVER = math.inf


@dataclass(frozen=True)
class Draw:
    """One window of every unit: what it served, and how much of it on the new release."""

    requests: Vector
    errors: Vector
    crashes: Vector
    latency_ms: Vector
    new_requests: Vector  # requests the new release served
    harmful_requests: Vector  # … on units where its fault applies

    def columns(self, units: Ids, named: Ids | None = None) -> Columns:
        """The window of ``units`` (positions in the draw) as the gates read it, under the ids
        ``named`` (the same by default); no latency where nothing was served."""
        requests = self.requests[units]
        return Columns(
            units=units if named is None else named,
            requests=requests,
            errors=self.errors[units],
            crashes=self.crashes[units],
            latency_ms=np.where(requests > 0, self.latency_ms[units], np.nan),
        )


@dataclass
class VirtualFleet:
    """Units are numbered 0..n-1; ``traffic`` shares sum to 1. ``baseline_rng`` draws the
    baseline cluster (``old_release``) apart from the fleet's own stream, so that a policy that
    runs one leaves the fleet's draws as they are."""

    profiles: list[model.SimUnit]
    requests_per_second: float
    rng: np.random.Generator
    baseline_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(3))
    traffic: Vector = field(init=False)
    utc_offset: Vector = field(init=False)
    error_rate: Vector = field(init=False)
    latency_ms: Vector = field(init=False)
    noisy: NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        self.traffic = np.array([p.traffic for p in self.profiles], dtype=float)
        self.utc_offset = np.array([p.utc_offset for p in self.profiles], dtype=float)
        self.error_rate = np.array([p.error_rate for p in self.profiles], dtype=float)
        self.latency_ms = np.array([p.latency_ms for p in self.profiles], dtype=float)
        self.noisy = np.array([p.noisy for p in self.profiles], dtype=bool)

    @property
    def size(self) -> int:
        return len(self.profiles)

    def affected(self, fault: model.Fault | None) -> NDArray[np.bool_]:
        if fault is None:
            return np.zeros(self.size, dtype=bool)
        return np.array([fault.applies_to(p.tags) for p in self.profiles], dtype=bool)

    def diurnal(self, moment: datetime, units: Ids | None = None) -> Vector:
        hours = moment.hour + moment.minute / 60 + moment.second / 3600
        offset = self.utc_offset if units is None else self.utc_offset[units]
        local = (hours + offset) % 24
        return np.asarray(1 + 0.5 * np.sin(2 * np.pi * (local - 9) / 24), dtype=float)

    def draw(
        self,
        start: datetime,
        end: datetime,
        *,
        new_since: Vector,
        new_until: Vector,
        fault: model.Fault | None,
        affected: NDArray[np.bool_],
        rng: np.random.Generator | None = None,
        units: Ids | None = None,
    ) -> Draw:
        """The window [start, end): unit i ran the new release during [new_since[i],
        new_until[i]) (seconds since the epoch; ``NEVER`` for not at all). With ``units``, only
        those (and the arrays passed in are theirs, in that order)."""
        rng = self.rng if rng is None else rng
        pick = slice(None) if units is None else units
        traffic, error_rate = self.traffic[pick], self.error_rate[pick]
        noisy, typical_latency = self.noisy[pick], self.latency_ms[pick]
        seconds = (end - start).total_seconds()
        t0, t1 = start.timestamp(), end.timestamp()
        on_new = np.clip(np.minimum(new_until, t1) - np.maximum(new_since, t0), 0, seconds)
        fraction = on_new / seconds
        middle = start + (end - start) / 2
        expected = self.requests_per_second * traffic * self.diurnal(middle, units) * seconds
        requests = rng.poisson(expected).astype(float)
        new = rng.binomial(requests.astype(np.int64), fraction).astype(float)
        old = requests - new
        active = affected & (new > 0)
        multiplier = np.where(active, fault.error_multiplier if fault else 1.0, 1.0)
        errors = rng.poisson(old * error_rate + new * error_rate * multiplier)
        crash_rate = np.full(traffic.size, model.BASE_CRASH_RATE)
        if fault is not None and fault.crash_after is not None:
            crashing_from = new_since + fault.crash_after.total_seconds()
            crashing = np.clip(
                np.minimum(new_until, t1) - np.maximum(crashing_from, t0), 0, seconds
            )
            crash_rate = crash_rate + np.where(
                affected, model.FAULT_CRASH_RATE * crashing / seconds, 0
            )
        crashes = rng.poisson(requests * crash_rate).astype(float)
        minutes = seconds / 60
        chance = np.where(noisy, model.NOISY_BURST_CHANCE, model.BURST_CHANCE)
        bursts = rng.poisson(chance * minutes)
        cover = np.minimum(bursts / max(minutes, 1.0), 1.0)
        errors = errors + rng.poisson(requests * model.BURST_ERROR_RATE * cover)
        slow = fault.latency_multiplier if fault else 1.0
        weight = old + new * np.where(affected, slow, 1.0)
        served = np.maximum(requests, 1.0)
        jitter = 0.02 + 0.5 / np.sqrt(served)
        latency = typical_latency * (weight / served) * rng.lognormal(0, jitter)
        return Draw(
            requests=requests,
            errors=errors.astype(float),
            crashes=crashes,
            latency_ms=latency,
            new_requests=new,
            harmful_requests=np.where(affected, new, 0.0),
        )

    def old_release(self, start: datetime, end: datetime, units: Ids) -> Columns:
        """The window [start, end) of a baseline cluster: a twin of each of ``units`` — its
        traffic, error rate, latency and noise — that runs the old release, drawn on its own."""
        never = np.full(units.size, NEVER)
        twins = self.draw(
            start,
            end,
            new_since=never,
            new_until=never,
            fault=None,
            affected=np.zeros(units.size, dtype=bool),
            rng=self.baseline_rng,
            units=units,
        )
        return twins.columns(np.arange(units.size), named=units)
