"""What a health source reports: what each unit served in a window, by group."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray


class UnitSample(NamedTuple):
    """What one unit served in one window. A named tuple, not a dataclass: the simulator
    builds one per unit per window (10,000 units, thousands of windows), and a frozen dataclass
    costs several times as much to make."""

    requests: float
    errors: float = 0.0
    crashes: float = 0.0
    latency_ms: float | None = None


@dataclass(frozen=True)
class Window:
    updated: Mapping[int, UnitSample]
    control: Mapping[int, UnitSample]
    # Updated units a person left out of the evidence: only their crashes count.
    watched: Mapping[int, UnitSample] = field(default_factory=dict)


Vector = NDArray[np.float64]
Ids = NDArray[np.int64]


@dataclass(frozen=True)
class Columns:
    """A group's samples as arrays, one entry per unit: what the gates compute on, over all
    units at once (a window of 10,000 units is one numpy operation, not 10,000 look-ups).
    ``latency_ms`` is NaN where a unit reported none."""

    units: Ids
    requests: Vector
    errors: Vector
    crashes: Vector
    latency_ms: Vector

    @classmethod
    def of(cls, samples: Mapping[int, UnitSample]) -> Columns:
        values = list(samples.values())
        return cls(
            units=np.fromiter(samples.keys(), dtype=np.int64, count=len(values)),
            requests=np.fromiter((s.requests for s in values), dtype=float, count=len(values)),
            errors=np.fromiter((s.errors for s in values), dtype=float, count=len(values)),
            crashes=np.fromiter((s.crashes for s in values), dtype=float, count=len(values)),
            latency_ms=np.fromiter(
                (math.nan if s.latency_ms is None else s.latency_ms for s in values),
                dtype=float,
                count=len(values),
            ),
        )

    @classmethod
    def empty(cls) -> Columns:
        return cls.of({})

    def __len__(self) -> int:
        return int(self.units.size)

    def samples(self) -> dict[int, UnitSample]:
        """Back to one sample per unit (for what reads units one by one)."""
        return {
            unit: UnitSample(
                requests=requests,
                errors=errors,
                crashes=crashes,
                latency_ms=None if math.isnan(latency) else latency,
            )
            for unit, requests, errors, crashes, latency in zip(
                self.units.tolist(),
                self.requests.tolist(),
                self.errors.tolist(),
                self.crashes.tolist(),
                self.latency_ms.tolist(),
                strict=True,
            )
        }


COLUMN_NAMES = ("units", "requests", "errors", "crashes", "latency_ms")


@dataclass(frozen=True)
class Frame:
    """A window as columns: the updated, control and watched groups."""

    updated: Columns
    control: Columns
    watched: Columns

    @classmethod
    def of(cls, window: Window | Frame) -> Frame:
        if isinstance(window, Frame):
            return window
        groups = (window.updated, window.control, window.watched)
        return cls(*(Columns.of(group) for group in groups))


class UnitTable(Mapping[str, float]):
    """A value per unit — a baseline error rate, a median log latency — read as a mapping from
    the unit's id as text (how the gate's state is stored as JSON) and looked up for many units
    at once by id."""

    __slots__ = ("ids", "median", "numbers")

    def __init__(self, values: Mapping[str, float] | Mapping[int, float]) -> None:
        pairs = sorted((int(unit), float(value)) for unit, value in values.items())
        self.ids: Ids = np.array([unit for unit, _ in pairs], dtype=np.int64)
        self.numbers: Vector = np.array([value for _, value in pairs], dtype=float)
        self.median = float(np.median(self.numbers)) if pairs else 0.0

    def _positions(self, units: Ids) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        if self.ids.size == 0:
            return np.zeros(units.size, dtype=np.intp), np.zeros(units.size, dtype=bool)
        positions = np.minimum(np.searchsorted(self.ids, units), self.ids.size - 1)
        return positions, self.ids[positions] == units

    def has(self, units: Ids) -> NDArray[np.bool_]:
        return self._positions(units)[1]

    def lookup(self, units: Ids, default: float) -> Vector:
        """Each unit's value, ``default`` for a unit without one."""
        positions, found = self._positions(units)
        if self.ids.size == 0:
            return np.full(units.size, default, dtype=float)
        return np.where(found, self.numbers[positions], default)

    def __getitem__(self, key: str) -> float:
        found = self.lookup(np.array([int(key)], dtype=np.int64), math.nan)[0]
        if math.isnan(found):
            raise KeyError(key)
        return float(found)

    def __iter__(self) -> Iterator[str]:
        return (str(unit) for unit in self.ids.tolist())

    def __len__(self) -> int:
        return int(self.ids.size)

    def to_json(self) -> dict[str, float]:
        return dict(zip(map(str, self.ids.tolist()), self.numbers.tolist(), strict=True))
