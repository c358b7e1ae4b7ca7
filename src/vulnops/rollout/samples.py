"""What a health source reports: what each unit served in a window, by group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple


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
