"""The fleet simulator's model of traffic, errors, crashes and latency (pure).

Every unit serves traffic that follows the day where its region is (busiest mid-afternoon local
time, half as busy at night) and its share of the service; each has its own error rate and
latency. Now and then a unit has a short burst of errors unrelated to any release; a *noisy* unit
has a higher error rate and bursts far more often. A release may carry a fault: more errors,
slower responses, crashes that start some time after the unit took the release, or any of these
only on units with a given configuration tag.

The numbers of a window are drawn from a generator seeded by the unit and the window, so the
same window always gives the same numbers — asking twice (a controller that restarted) changes
nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from vulnops.rollout.samples import UnitSample

GEOGRAPHY_UTC_OFFSET = {
    "europe": 1,
    "americas": -6,
    "asia-pacific": 8,
    "middle-east": 3,
    "africa": 2,
    "canary": -8,
}
BASE_ERROR_RATE = 0.004  # a typical unit's; each unit's own is drawn around it
BURST_CHANCE = 0.002  # per unit and minute; a burst lasts a minute
NOISY_BURST_CHANCE = 0.05
BURST_ERROR_RATE = 0.05
BASE_CRASH_RATE = 1e-7  # per request
FAULT_CRASH_RATE = 2e-4  # per request, once a crashing fault has started


@dataclass(frozen=True)
class Fault:
    error_multiplier: float = 1.0
    latency_multiplier: float = 1.0
    crash_after: timedelta | None = None
    only_tag: str | None = None

    def applies_to(self, tags: Sequence[str]) -> bool:
        return self.only_tag is None or self.only_tag in tags


@dataclass(frozen=True)
class SimUnit:
    id: int
    traffic: float  # share of the service's traffic
    utc_offset: float  # hours
    error_rate: float
    latency_ms: float
    tags: tuple[str, ...] = ()
    noisy: bool = False


@dataclass(frozen=True)
class Segment:
    """A part of a window during which the unit ran one version, and since when it ran it."""

    version: str
    start: datetime
    end: datetime
    running_since: datetime


def unit_profile(
    unit_id: int,
    *,
    seed: int,
    traffic: float,
    geography: str,
    tags: Sequence[str] = (),
    noisy: bool = False,
) -> SimUnit:
    """A unit's error rate and latency, drawn once from its id (the same every time)."""
    rng = np.random.default_rng([seed, unit_id, 17])
    return SimUnit(
        id=unit_id,
        traffic=traffic,
        utc_offset=GEOGRAPHY_UTC_OFFSET.get(geography, 0),
        error_rate=BASE_ERROR_RATE * float(rng.lognormal(0, 0.3)) * (5 if noisy else 1),
        latency_ms=80 * float(rng.lognormal(0, 0.25)),
        tags=tuple(tags),
        noisy=noisy,
    )


def diurnal(moment: datetime, utc_offset: float) -> float:
    """Relative traffic at ``moment``: 1.5 at 15:00 local time, 0.5 at 03:00."""
    hours = (moment.hour + moment.minute / 60 + moment.second / 3600 + utc_offset) % 24
    return 1 + 0.5 * math.sin(2 * math.pi * (hours - 9) / 24)


def burst_cover(bursts: float, minutes: float) -> float:
    """The share of a window that ``bursts`` one-minute bursts cover (all of a shorter one)."""
    return min(bursts / max(minutes, 1.0), 1.0)


def _rng(seed: int, unit_id: int, start: datetime, end: datetime) -> np.random.Generator:
    key = f"{seed}:{unit_id}:{start.timestamp():.3f}:{end.timestamp():.3f}".encode()
    return np.random.default_rng(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest()))


def sample(
    unit: SimUnit,
    segments: Sequence[Segment],
    faults: Mapping[str, Fault],
    *,
    seed: int,
    requests_per_second: float,
) -> UnitSample:
    """What ``unit`` served over ``segments`` (one window, split where its version changed)."""
    if not segments:
        return UnitSample(requests=0)
    start, end = segments[0].start, segments[-1].end
    rng = _rng(seed, unit.id, start, end)
    requests = errors = crashes = 0.0
    latency_weight = 0.0
    for segment in segments:
        seconds = (segment.end - segment.start).total_seconds()
        if seconds <= 0:
            continue
        middle = segment.start + (segment.end - segment.start) / 2
        expected = requests_per_second * unit.traffic * diurnal(middle, unit.utc_offset) * seconds
        served = float(rng.poisson(expected))
        fault = faults.get(segment.version)
        active = fault is not None and fault.applies_to(unit.tags)
        error_rate = unit.error_rate * (fault.error_multiplier if fault and active else 1.0)
        errors += float(rng.poisson(served * error_rate))
        crash_rate = BASE_CRASH_RATE
        if fault and active and fault.crash_after is not None:
            crashing_from = segment.running_since + fault.crash_after
            crashing = max((segment.end - max(crashing_from, segment.start)).total_seconds(), 0)
            crash_rate += FAULT_CRASH_RATE * crashing / seconds
        crashes += float(rng.poisson(served * crash_rate))
        latency_weight += served * (fault.latency_multiplier if fault and active else 1.0)
        requests += served
    minutes = (end - start).total_seconds() / 60
    bursts = rng.poisson((NOISY_BURST_CHANCE if unit.noisy else BURST_CHANCE) * minutes)
    if bursts:
        errors += float(rng.poisson(requests * BURST_ERROR_RATE * burst_cover(bursts, minutes)))
    if requests <= 0:
        return UnitSample(requests=0, errors=errors, crashes=crashes)
    jitter = 0.02 + 0.5 / math.sqrt(requests)
    latency = unit.latency_ms * (latency_weight / requests) * float(rng.lognormal(0, jitter))
    return UnitSample(requests=requests, errors=errors, crashes=crashes, latency_ms=latency)
