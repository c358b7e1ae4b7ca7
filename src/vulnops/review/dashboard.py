"""The program dashboard's plots and their data (pure): from the metrics, each plot as SVG
and the same figures as rows for its CSV, so what is drawn and what is downloaded agree."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from vulnops.review.plots import Bar, Series, bars, columns, lines
from vulnops.review.schemas_metrics import MetricRow, ProgramMetrics

Cell = str | float | int | None


@dataclass(frozen=True)
class Plot:
    key: str
    title: str
    svg: Markup
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _by_month(metrics: ProgramMetrics, key: str, *, scale: float) -> list[float | None]:
    row = next(m for m in metrics.metrics if m.key == key)
    found = {g.name: g.cell.median_hours / scale for g in row.by_month}
    return [found.get(month) for month in metrics.months]


def _trend(metrics: ProgramMetrics, key: str, title: str, keys: tuple[str, ...], unit: str) -> Plot:
    scale = 24.0 if unit == "days" else 1.0
    names = {m.key: m.label.removeprefix("Time to ") for m in metrics.metrics}
    series = [Series(names[k], _by_month(metrics, k, scale=scale)) for k in keys]
    return Plot(
        key=key,
        title=title,
        svg=lines(metrics.months, series, title=title, unit=unit),
        header=("month", *(f"median {names[k]} ({unit})" for k in keys)),
        rows=[(month, *(s.values[i] for s in series)) for i, month in enumerate(metrics.months)],
    )


def _distribution(row: MetricRow) -> Plot:
    title = f"{row.label} by rating: median and 90th percentile (days)"
    groups = [
        Bar(g.name, (("median", g.cell.median_hours / 24), ("p90", g.cell.p90_hours / 24)))
        for g in row.by_rating
    ]
    return Plot(
        key="distribution",
        title=title,
        svg=bars(groups, title=title, unit="days", stacked=False),
        header=("rating", "cases", "median (days)", "p90 (days)"),
        rows=[
            (g.name, g.cell.cases, g.cell.median_hours / 24, g.cell.p90_hours / 24)
            for g in row.by_rating
        ],
    )


def plots(metrics: ProgramMetrics) -> list[Plot]:
    whole_fleet = next(m for m in metrics.metrics if m.key == "whole_fleet")
    sla_title = "Deadlines met, missed and still open"
    exposure = {m.month: m for m in metrics.exposure_by_month}
    satisfaction = {m.month: m for m in metrics.satisfaction_by_month}
    cases = {m.month: m.count for m in metrics.cases_by_month}
    return [
        _trend(
            metrics,
            "response",
            "Median time to acknowledge and to triage, by month reported (hours)",
            ("acknowledge", "triage"),
            "hours",
        ),
        _trend(
            metrics,
            "remediation",
            "Median time to fix, to the whole fleet and to customers told, by month (days)",
            ("fix_ready", "whole_fleet", "notified"),
            "days",
        ),
        _distribution(whole_fleet),
        Plot(
            key="sla",
            title=sla_title,
            svg=bars(
                [
                    Bar(s.deadline, (("met", s.met), ("missed", s.missed), ("open", s.open)))
                    for s in metrics.sla
                ],
                title=sla_title,
                unit="cases",
                stacked=True,
            ),
            header=("deadline", "met", "missed", "open", "compliance"),
            rows=[(s.deadline, s.met, s.missed, s.open, s.compliance) for s in metrics.sla],
        ),
        Plot(
            key="exposure",
            title="Exposure: tenant-hours of the published reviews, by month reported",
            svg=columns(
                metrics.months,
                [exposure[m].value if m in exposure else 0.0 for m in metrics.months],
                title="Exposure: tenant-hours of the published reviews, by month reported",
                unit="tenant-hours",
            ),
            header=("month", "tenant-hours", "reviews"),
            rows=[
                (
                    m,
                    exposure[m].value if m in exposure else 0.0,
                    exposure[m].count if m in exposure else 0,
                )
                for m in metrics.months
            ],
        ),
        Plot(
            key="satisfaction",
            title="Customers' satisfaction: average rating of the advisories (1 to 5)",
            svg=lines(
                metrics.months,
                [
                    Series(
                        "average rating",
                        [
                            satisfaction[m].value if m in satisfaction else None
                            for m in metrics.months
                        ],
                    )
                ],
                title="Customers' satisfaction: average rating of the advisories (1 to 5)",
                unit="rating",
            ),
            header=("month", "average rating", "answers"),
            rows=[
                (
                    m,
                    satisfaction[m].value if m in satisfaction else None,
                    satisfaction[m].count if m in satisfaction else 0,
                )
                for m in metrics.months
            ],
        ),
        Plot(
            key="cases",
            title="Cases first reported, by month",
            svg=columns(
                metrics.months,
                [float(cases.get(m, 0)) for m in metrics.months],
                title="Cases first reported, by month",
                unit="cases",
            ),
            header=("month", "cases"),
            rows=[(m, cases.get(m, 0)) for m in metrics.months],
        ),
    ]


def table_rows(metrics: ProgramMetrics) -> tuple[tuple[str, ...], list[tuple[Cell, ...]]]:
    """The whole table of measures, one row per measure and group (the table's CSV)."""
    header = ("measure", "from", "to", "group", "value", "cases", "median hours", "p90 hours")
    rows: list[tuple[Cell, ...]] = []
    for m in metrics.metrics:
        if m.overall is not None:
            rows.append(
                (
                    m.key,
                    m.start.value,
                    m.end.value,
                    "all",
                    "",
                    m.overall.cases,
                    m.overall.median_hours,
                    m.overall.p90_hours,
                )
            )
        for group, found in (
            ("rating", m.by_rating),
            ("source", m.by_source),
            ("service", m.by_service),
            ("month", m.by_month),
        ):
            rows += [
                (
                    m.key,
                    m.start.value,
                    m.end.value,
                    group,
                    g.name,
                    g.cell.cases,
                    g.cell.median_hours,
                    g.cell.p90_hours,
                )
                for g in found
            ]
    return header, rows
