"""The program's measures (pure): each a duration between two named milestones, defined once
here, so the review of one case, the program's table, the dashboard and the terminal agree on
where every duration starts and ends.

Every measure starts at the case's ``reported`` milestone (when its first report arrived):
tools that start some durations at detection and others at acknowledgment disagree about the
same case, and nobody can compare their figures. Two points are not case milestones but facts
of other domains, named here like milestones: ``first_unit`` (the first deployment unit that
ran a fix of the case) and ``last_variant_closed`` (the last of the case's variants, bypasses
and regressions closed, once all are).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Point(StrEnum):
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    FIX_READY = "fix_ready"
    FIRST_UNIT = "first_unit"
    MITIGATED = "mitigated"
    CUSTOMERS_NOTIFIED = "customers_notified"
    PUBLIC = "public"
    LAST_VARIANT_CLOSED = "last_variant_closed"


POINT_LABELS: dict[Point, str] = {
    Point.REPORTED: "first report received",
    Point.ACKNOWLEDGED: "acknowledged by a responder",
    Point.TRIAGED: "triaged (rating and owner decided)",
    Point.FIX_READY: "a fix is ready to roll out",
    Point.FIRST_UNIT: "the first deployment unit runs a fix",
    Point.MITIGATED: "mitigated: the fix runs on the whole fleet (or mitigated without one)",
    Point.CUSTOMERS_NOTIFIED: "the affected customers were notified",
    Point.PUBLIC: "disclosed publicly",
    Point.LAST_VARIANT_CLOSED: "the last variant, bypass or regression of the case closed",
}


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    start: Point
    end: Point


METRICS: tuple[Measure, ...] = (
    Measure("acknowledge", "Time to acknowledge", Point.REPORTED, Point.ACKNOWLEDGED),
    Measure("triage", "Time to triage", Point.REPORTED, Point.TRIAGED),
    Measure("fix_ready", "Time to fix ready", Point.REPORTED, Point.FIX_READY),
    Measure("first_unit", "Time to first unit", Point.REPORTED, Point.FIRST_UNIT),
    Measure("whole_fleet", "Time to the whole fleet", Point.REPORTED, Point.MITIGATED),
    Measure("notified", "Time to customers notified", Point.REPORTED, Point.CUSTOMERS_NOTIFIED),
    Measure("disclosure", "Time to disclosure", Point.REPORTED, Point.PUBLIC),
    Measure(
        "last_variant", "Time to the last variant closed", Point.REPORTED, Point.LAST_VARIANT_CLOSED
    ),
)
BY_KEY: dict[str, Measure] = {m.key: m for m in METRICS}


def hours(start: datetime | None, end: datetime | None) -> float | None:
    """The duration in hours, or None when either end is missing (a duration that would be
    negative, from a milestone recorded out of order, counts as zero)."""
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 3600)


def durations(times: Mapping[Point, datetime]) -> dict[str, float | None]:
    """Each measure of one case, in hours, from the times of its points."""
    return {m.key: hours(times.get(m.start), times.get(m.end)) for m in METRICS}


def describe(value: float | None) -> str:
    """A duration in hours as a person reads it: 45 min, 6.5 h, 3.2 d."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"
