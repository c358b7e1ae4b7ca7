"""A stage's evidence over time (pure): the points the gate keeps after each look, and the
geometry of the small charts the rollout page draws from them as server-rendered SVG.

A point is ``[seconds since the stage began, error ratio, its 95% low, its 95% high, latency
change, its low, its high]`` (the latency three are ``None`` until latency is measured). A
stage keeps at most ``LIMIT`` points: past that, every other old point is dropped, so a gate
that holds for days still has a chart of its whole life and a row of bounded size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LIMIT = 240
WIDTH, HEIGHT = 320.0, 110.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 8.0, 8.0, 20.0
# The error ratio on a log scale from a quarter to four times the old version's rate.
RATIO_RANGE = (0.25, 4.0)

Point = list[float | None]


def point(seconds: float, evidence: Mapping[str, Any]) -> Point:
    """The point of one look, from the statistics the gate computed. Without errors on either
    side nothing was compared (the ratio would only be the prior): its three are ``None``."""
    compared = evidence.get("errors_updated", 0) + evidence.get("errors_control", 0) > 0
    ratio_low, ratio_high = evidence["error_ratio_95"] if compared else (None, None)
    latency = evidence.get("latency_change")
    latency_low, latency_high = evidence.get("latency_change_95") or (None, None)
    return [
        round(seconds, 1),
        evidence["error_ratio"] if compared else None,
        ratio_low,
        ratio_high,
        latency,
        latency_low,
        latency_high,
    ]


def appended(history: Sequence[Point], new: Point, limit: int = LIMIT) -> list[Point]:
    """``history`` with ``new`` at its end, thinned to at most ``limit`` points."""
    points = [*history, new]
    while len(points) > limit:
        points = [*points[:-1:2], points[-1]]
    return points


@dataclass(frozen=True)
class Line:
    y: float
    label: str
    dashed: bool


@dataclass(frozen=True)
class Chart:
    """One panel: a band (the interval), a line (the estimate), reference lines and labels."""

    title: str
    width: float
    height: float
    left: float  # where the plot begins (the labels are left of it)
    right: float
    band: str  # SVG polygon points
    line: str  # SVG polyline points
    references: list[Line]
    x_label: str
    last: str  # the latest value, in words


def _x(seconds: float, span: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (seconds / span if span > 0 else 1.0)


def _scaled(value: float, low: float, high: float) -> float:
    share = (min(max(value, low), high) - low) / (high - low)
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share)


def _geometry(
    rows: Sequence[tuple[float, float, float, float]], scale: Callable[[float], float], span: float
) -> tuple[str, str]:
    upper = [f"{_x(t, span):.1f},{scale(high):.1f}" for t, _, _, high in rows]
    lower = [f"{_x(t, span):.1f},{scale(low):.1f}" for t, _, low, _ in reversed(rows)]
    line = [f"{_x(t, span):.1f},{scale(mid):.1f}" for t, mid, _, _ in rows]
    return " ".join(upper + lower), " ".join(line)


def _minutes(span: float) -> str:
    if span < 120:  # under two minutes: in seconds
        return f"seconds since the stage began (0 to {span:.0f})"
    return f"minutes since the stage began (0 to {span / 60:.0f})"


def _rows(points: Sequence[Point], first: int) -> list[tuple[float, float, float, float]]:
    """(time, estimate, low, high) of the points, from the estimate at index ``first``."""
    return [
        (float(p[0] or 0), float(p[first] or 0), float(p[first + 1] or 0), float(p[first + 2] or 0))
        for p in points
    ]


def _panel(
    title: str,
    rows: Sequence[tuple[float, float, float, float]],
    scale: Callable[[float], float],
    span: float,
    references: Sequence[tuple[float, str, bool]],
    last: str,
) -> Chart:
    """One panel from its (time, estimate, low, high) rows and its y scale."""
    band, line = _geometry(rows, scale, span)
    return Chart(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        band=band,
        line=line,
        references=[Line(scale(value), label, dashed) for value, label, dashed in references],
        x_label=_minutes(span),
        last=last,
    )


def charts(history: Sequence[Point], *, error_margin: float, latency_margin: float) -> list[Chart]:
    """The error-ratio chart once errors were compared, and the latency chart once latency was
    measured (each needs two points: one look is not a line)."""
    if not history:
        return []
    span = float(history[-1][0] or 0.0)
    found = []
    compared = [p for p in history if p[1] is not None]
    if len(compared) >= 2:
        low, high = (math.log(v) for v in RATIO_RANGE)
        last = compared[-1]
        found.append(
            _panel(
                "Error rate, updated ÷ old version",
                _rows(compared, 1),
                lambda value: _scaled(math.log(max(value, 1e-9)), low, high),
                span,
                [(1.0, "1x", False), (error_margin, f"{error_margin:g}x", True)],
                f"{last[1]:.2f}x (95%: {last[2]:.2f} to {last[3]:.2f})",
            )
        )
    measured = [p for p in history if p[4] is not None]
    if len(measured) >= 2:
        bound = 3 * latency_margin
        latest = measured[-1]
        found.append(
            _panel(
                "Latency change",
                _rows(measured, 4),
                lambda value: _scaled(value, -bound, bound),
                span,
                [(0.0, "0%", False), (latency_margin, f"+{latency_margin:.0%}", True)],
                f"{latest[4]:+.1%} (95%: {latest[5]:+.1%} to {latest[6]:+.1%})",
            )
        )
    return found
