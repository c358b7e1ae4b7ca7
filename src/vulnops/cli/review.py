"""``vulnops metrics`` and ``vulnops review …``: the program's measures in the terminal, and a
case's post-incident review shown or exported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vulnops.cli.common import (
    JSON,
    console,
    err_console,
    fail,
    group,
    print_json,
    print_table,
    run_in_session,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.review.schemas import ReviewOut
    from vulnops.review.schemas_metrics import ProgramMetrics

review_app = group("Post-incident reviews: show one, export it as Markdown or PDF.")


def metrics(
    start: str | None = typer.Option(None, "--start", help="First month, YYYY-MM."),
    end: str | None = typer.Option(None, "--end", help="Last month, YYYY-MM."),
    rating: str | None = typer.Option(None, "--rating", help="critical, important, moderate, low"),
    source: str | None = typer.Option(
        None, "--source", help="researcher, partner, internal, scanner, detection"
    ),
    service: str | None = typer.Option(None, "--service", help="One service's cases (its key)."),
    as_json: bool = JSON,
) -> None:
    """The program's measures (median and 90th percentile from the first report), SLA
    compliance, rollbacks and action items: the dashboard's table, in the terminal."""
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from vulnops.review.measures import describe
    from vulnops.review.schemas_metrics import MetricsFilter

    try:
        given = MetricsFilter.model_validate(
            {"start": start, "end": end, "rating": rating, "source": source, "service": service}
        )
    except ValidationError as error:
        raise fail(
            "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'period'}: {e['msg']}" for e in error.errors()
            ),
            2,
        ) from None

    async def work(session: AsyncSession) -> ProgramMetrics:
        from vulnops.review import metrics as program

        return await program.program(session, viewer=None, given=given, now=datetime.now(UTC))

    found = run_in_session(work)
    if as_json:
        print_json(found)
        return
    err_console.print(f"{found.cases} case(s) first reported {found.start} to {found.end}")
    print_table(
        ("measure", "from", "to", "cases", "median", "p90"),
        [
            (
                m.label,
                m.start.value,
                m.end.value,
                str(m.overall.cases if m.overall else 0),
                describe(m.overall.median_hours if m.overall else None),
                describe(m.overall.p90_hours if m.overall else None),
            )
            for m in found.metrics
        ],
    )
    print_table(
        ("deadline", "met", "missed", "open", "compliance"),
        [
            (
                s.deadline,
                str(s.met),
                str(s.missed),
                str(s.open),
                f"{s.compliance:.0%}" if s.compliance is not None else "-",
            )
            for s in found.sla
        ],
        footer=(
            f"rollouts rolled back: {found.rollouts.rolled_back} of {found.rollouts.finished} "
            f"finished; bypasses {found.bypasses}, regressions {found.regressions}; action "
            f"items {found.action_items.open} open, {found.action_items.overdue} overdue"
        ),
    )


def _review(case: str) -> ReviewOut:
    async def work(session: AsyncSession) -> ReviewOut:
        from datetime import UTC, datetime

        from vulnops.cases import service as cases
        from vulnops.review import service

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        return await service.view(session, case_id=found.id, viewer=None, now=datetime.now(UTC))

    return run_in_session(work)


@review_app.command("show")
def show(
    case: str = typer.Argument(..., help="The case's tracking id (CASE-…)."), as_json: bool = JSON
) -> None:
    """A review's state, durations, exposure and action items."""
    from vulnops.review.measures import describe

    found = _review(case)
    if as_json:
        print_json(found)
        return
    console.print(
        f"{found.tracking_id} {found.title}: review {found.state.replace('_', ' ')}; "
        f"{found.record.exposure.tenant_hours:,.1f} tenant-hours",
        highlight=False,
    )
    print_table(
        ("measure", "duration"),
        [(d.label, describe(d.hours)) for d in found.record.durations],
    )
    print_table(
        ("action item", "owner", "due", "status"),
        [
            (
                a.title,
                a.owner,
                str(a.due),
                "done" if a.done_at else ("overdue" if a.overdue else "open"),
            )
            for a in found.action_items
        ],
    )


@review_app.command("export")
def export(
    case: str = typer.Argument(..., help="The case's tracking id (CASE-…)."),
    output: Path = typer.Option(..., "--output", "-o", help="The file to write."),
    kind: str = typer.Option("", "--format", help="md or pdf (else from the file's suffix)."),
) -> None:
    """Export a review as Markdown or PDF, with every field of its page."""
    from vulnops.review import export as exporting

    chosen = kind or output.suffix.removeprefix(".")
    if chosen not in ("md", "pdf"):
        raise fail(f"--format is md or pdf, not {chosen!r}", 2)
    found = _review(case)
    try:
        if chosen == "pdf":
            output.write_bytes(exporting.pdf(found))
        else:
            output.write_text(exporting.markdown(found), encoding="utf-8")
    except OSError as error:
        raise fail(f"{output}: {error}", 2) from None
    err_console.print(f"wrote {output}", highlight=False)
