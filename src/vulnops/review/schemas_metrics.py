"""The program metrics' filter and answer (typed), and the reading of the SQL's JSON into it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vulnops.cases.severity import Rating
from vulnops.db.bounded import Input
from vulnops.intake.states import Source
from vulnops.review.measures import METRICS, Point

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_MONTHS = 120
DEFAULT_MONTHS = 12


# GROUPING(rating, source, month): a bit set for each column aggregated away.
OVERALL = 0b111
LEVELS = {
    0b011: ("rating", "by_rating"),
    0b101: ("source", "by_source"),
    0b110: ("month", "by_month"),
}
UNKNOWN = {"rating": "unrated", "source": "no report", "month": "-"}


def _month(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)


class MetricsFilter(Input):
    """The cases first reported from the first day of ``start`` to the last of ``end`` (by
    default the last twelve months, this one included), of one rating, source or service."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: str | None = Field(default=None, description="First month, YYYY-MM.")
    end: str | None = Field(default=None, description="Last month, YYYY-MM.")
    rating: Rating | None = None
    source: Source | None = None
    service: str | None = Field(default=None, max_length=100)

    @field_validator("start", "end")
    @classmethod
    def _is_month(cls, value: str | None) -> str | None:
        if value is not None and value != "" and not MONTH.match(value):
            raise ValueError("a month is written YYYY-MM, e.g. 2026-03")
        return value or None

    @field_validator("service")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _ordered(self) -> MetricsFilter:
        if self.start and self.end:
            first, last = _month(self.start), _month(self.end)
            if first > last:
                raise ValueError(f"the period starts ({self.start}) after it ends ({self.end})")
            span = (last.year - first.year) * 12 + last.month - first.month + 1
            if span > MAX_MONTHS:
                raise ValueError(f"a period is at most {MAX_MONTHS} months, not {span}")
        return self

    def months(self, now: datetime) -> tuple[str, str]:
        end = self.end or f"{now:%Y-%m}"
        start = self.start or f"{_month(end) - relativedelta(months=DEFAULT_MONTHS - 1):%Y-%m}"
        if _month(start) > _month(end):  # only a start in the future was given
            end = start
        return start, end

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        start, end = self.months(now)
        return _month(start), _month(end) + relativedelta(months=1)

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for the links of the CSV downloads)."""
        return {
            key: str(value.value if hasattr(value, "value") else value)
            for key, value in self.model_dump().items()
            if value
        }


class Cell(BaseModel):
    cases: int
    median_hours: float
    p90_hours: float


class Grouped(BaseModel):
    name: str
    cell: Cell


class MetricRow(BaseModel):
    key: str
    label: str
    start: Point
    end: Point
    overall: Cell | None
    by_rating: list[Grouped]
    by_source: list[Grouped]
    by_service: list[Grouped]
    by_month: list[Grouped]


class SlaRow(BaseModel):
    deadline: str
    rating: str | None = None
    met: int
    missed: int
    open: int
    compliance: float | None = Field(description="Met among the deadlines met or missed.")


class RolloutStats(BaseModel):
    total: int
    finished: int
    rolled_back: int
    halted: int
    failure_rate: float | None = Field(description="Rolled back among the finished rollouts.")


class ActionItemStats(BaseModel):
    open: int
    overdue: int
    done: int


class MonthValue(BaseModel):
    month: str
    value: float
    count: int


class ProgramMetrics(BaseModel):
    start: str
    end: str
    months: list[str]
    filters: MetricsFilter
    cases: int
    metrics: list[MetricRow]
    sla: list[SlaRow]
    sla_by_rating: list[SlaRow]
    rollouts: RolloutStats
    variants: int
    bypasses: int
    regressions: int
    action_items: ActionItemStats
    cases_by_month: list[MonthValue]
    exposure_by_month: list[MonthValue] = Field(description="Tenant-hours of published reviews.")
    satisfaction_by_month: list[MonthValue] = Field(
        description="The customers' average rating (1 to 5) of the advisories, by month given."
    )

    @classmethod
    def from_sql(
        cls, found: dict[str, Any], *, given: MetricsFilter, since: datetime, until: datetime
    ) -> ProgramMetrics:
        months, at = [], since
        while at < until:
            months.append(f"{at:%Y-%m}")
            at += relativedelta(months=1)
        cells: dict[str, dict[str, list[Grouped]]] = {m.key: {} for m in METRICS}
        overall: dict[str, Cell] = {}
        for row in found["cells"]:
            cell = Cell(cases=row["n"], median_hours=row["p50"], p90_hours=row["p90"])
            if row["level"] == OVERALL:
                overall[row["metric"]] = cell
                continue
            column, name = LEVELS[row["level"]]
            cells[row["metric"]].setdefault(name, []).append(
                Grouped(name=str(row[column] or UNKNOWN[column]), cell=cell)
            )
        for row in found["service_cells"]:
            cells[row["metric"]].setdefault("by_service", []).append(
                Grouped(
                    name=row["service"],
                    cell=Cell(cases=row["n"], median_hours=row["p50"], p90_hours=row["p90"]),
                )
            )
        order = {r.value: i for i, r in enumerate(Rating)}
        metrics = [
            MetricRow(
                key=m.key,
                label=m.label,
                start=m.start,
                end=m.end,
                overall=overall.get(m.key),
                by_rating=sorted(
                    cells[m.key].get("by_rating", []), key=lambda g: order.get(g.name, 9)
                ),
                by_source=sorted(cells[m.key].get("by_source", []), key=lambda g: g.name),
                by_service=sorted(
                    cells[m.key].get("by_service", []), key=lambda g: (-g.cell.cases, g.name)
                ),
                by_month=sorted(cells[m.key].get("by_month", []), key=lambda g: g.name),
            )
            for m in METRICS
        ]
        rollouts = found["rollouts"]
        links = found["links"]
        start, end = given.months(since)
        return cls(
            start=months[0] if months else start,
            end=months[-1] if months else end,
            months=months,
            filters=given,
            cases=found["cases"],
            metrics=metrics,
            sla=_sla(found["sla"], by_rating=False),
            sla_by_rating=_sla(found["sla"], by_rating=True),
            rollouts=RolloutStats(
                total=rollouts["total"],
                finished=rollouts["finished"],
                rolled_back=rollouts["rolled_back"],
                halted=rollouts["halted"],
                failure_rate=(
                    rollouts["rolled_back"] / rollouts["finished"] if rollouts["finished"] else None
                ),
            ),
            variants=links.get("variant", 0),
            bypasses=links.get("bypass", 0),
            regressions=links.get("regression", 0),
            action_items=ActionItemStats(**found["action_items"]),
            cases_by_month=[
                MonthValue(month=r["month"], value=r["n"], count=r["n"])
                for r in found["cases_by_month"]
            ],
            exposure_by_month=[
                MonthValue(month=r["month"], value=r["tenant_hours"] or 0.0, count=r["reviews"])
                for r in found["exposure"]
            ],
            satisfaction_by_month=[
                MonthValue(month=r["month"], value=r["average"], count=r["answers"])
                for r in found["satisfaction"]
            ],
        )


def _sla(rows: list[dict[str, Any]], *, by_rating: bool) -> list[SlaRow]:
    counts: dict[tuple[str, str | None], dict[str, int]] = {}
    for row in rows:
        if by_rating == bool(row["overall"]):
            continue
        key = (row["name"], (row["rating"] or "unrated") if by_rating else None)
        counts.setdefault(key, {})[row["status"]] = row["n"]
    order = {name: i for i, name in enumerate(("acknowledge", "triage", "mitigate"))}
    ratings = {r.value: i for i, r in enumerate(Rating)}
    found = []
    for (name, rating), c in sorted(
        counts.items(), key=lambda kv: (order[kv[0][0]], ratings.get(kv[0][1] or "", 9))
    ):
        met, missed = c.get("met", 0), c.get("missed", 0)
        found.append(
            SlaRow(
                deadline=name,
                rating=rating,
                met=met,
                missed=missed,
                open=c.get("open", 0),
                compliance=met / (met + missed) if met + missed else None,
            )
        )
    return found
