"""``vulnops report …`` and ``vulnops case …``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
import yaml
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.cases import service as cases
from vulnops.cases.schemas import CaseOut
from vulnops.cases.severity import Rating
from vulnops.cases.states import CaseState
from vulnops.cli.common import console, err_console, run_in_session
from vulnops.intake import scans, service
from vulnops.intake.sarif import findings
from vulnops.intake.schemas import ReportIn
from vulnops.intake.states import ReportState, Source
from vulnops.settings import get_settings

reports_app = typer.Typer(help="Reports.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases.", no_args_is_help=True)


def _load(path: Path) -> object:
    text = path.read_text()
    try:
        return (
            json.loads(text) if path.suffix.lower() in {".json", ".sarif"} else yaml.safe_load(text)
        )
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        err_console.print(f"[red]error:[/red] {path} is not valid JSON or YAML: {error}")
        raise typer.Exit(2) from None


@reports_app.command("submit")
def submit(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A report (JSON or YAML) or a SARIF 2.1.0 log."
    ),
    as_user: str = typer.Option(..., "--as", help="Email of the account submitting it."),
    service_name: str | None = typer.Option(None, "--service", help="Service a SARIF log covers."),
) -> None:
    """Submit a report from a file, or import a scanner's SARIF log (one report per finding)."""
    document = _load(file)
    is_sarif = isinstance(document, dict) and "runs" in document

    async def work(session: AsyncSession) -> list[str]:
        user = await users.get_user_by_email(session, email=as_user)
        principal = users.principal_of(user, via="session")
        if is_sarif:
            created, known = await scans.import_log(
                session, principal=principal, log=findings(document), service=service_name
            )
            console.print(f"{len(created)} new report(s), {known} already known")
            return [report.tracking_id for report in created]
        try:
            data = ReportIn.model_validate(document)
        except ValidationError as error:
            err_console.print(f"[red]error:[/red] {file}: {error}")
            raise typer.Exit(2) from None
        report = await service.submit(
            session, principal=principal, data=data, settings=get_settings()
        )
        return [report.tracking_id]

    for tracking_id in run_in_session(work):
        console.print(tracking_id)


@reports_app.command("list")
def list_reports(
    as_user: str = typer.Option(..., "--as", help="List what this account may see."),
    state: ReportState | None = typer.Option(None),
    source: Source | None = typer.Option(None),
    search: str | None = typer.Option(None, help="Words, or a tracking number."),
    page: int = typer.Option(1, min=1),
) -> None:
    """List reports, newest first, a page at a time."""

    async def work(session: AsyncSession) -> None:
        user = await users.get_user_by_email(session, email=as_user)
        result = await service.list_reports(
            session,
            principal=users.principal_of(user, via="session"),
            state=state,
            source=source,
            search=search,
            page=page,
        )
        table = Table("tracking", "title", "source", "state", "received")
        for report in result.items:
            table.add_row(
                report.tracking_id,
                report.title,
                report.source,
                report.state + (f" ({report.close_reason})" if report.close_reason else ""),
                f"{report.received_at:%Y-%m-%d %H:%M}",
            )
        console.print(table)
        console.print(f"page {result.page} of {result.pages} · {result.total} reports")

    run_in_session(work)


@cases_app.command("list")
def list_cases(
    state: CaseState | None = typer.Option(None),
    rating: Rating | None = typer.Option(None),
    overdue: bool = typer.Option(False, help="Only cases with a deadline passed and unmet."),
    search: str | None = typer.Option(None, help="Words, or a tracking id."),
    page: int = typer.Option(1, min=1),
) -> None:
    """List cases, newest first (overdue: nearest deadline first)."""

    async def work(session: AsyncSession) -> None:
        result = await cases.list_cases(
            session,
            now=datetime.now(UTC),
            state=state,
            rating=rating,
            overdue=overdue,
            search=search,
            sort="due" if overdue else "opened",
            page=page,
        )
        table = Table("case", "title", "rating", "ssvc", "state", "next deadline")
        for case in result.items:
            table.add_row(
                case.tracking_id,
                case.title,
                case.rating or "unrated",
                case.ssvc_decision or "",
                case.state,
                f"{case.next_due:%Y-%m-%d %H:%M}" if case.next_due else "",
            )
        console.print(table)
        console.print(f"page {result.page} of {result.pages} · {result.total} cases")

    run_in_session(work)


@cases_app.command("show")
def show(tracking_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one case: severity, deadlines, reports."""

    async def work(session: AsyncSession) -> None:
        case = await cases.get_case_by_tracking_id(session, tracking_id=tracking_id)
        reports = await service.reports_of_case(session, case_id=case.id)
        if as_json:
            body = CaseOut.model_validate(case).model_dump(mode="json")
            body["reports"] = [report.tracking_id for report in reports]
            console.print_json(json.dumps(body))
            return
        console.print(f"[bold]{case.tracking_id}[/bold] {case.title}")
        console.print(
            f"state {case.state} · rating {case.rating or 'unrated'} · "
            f"SSVC {case.ssvc_decision or '—'} · CVSS 3.1 {case.cvss31_score or '—'} · "
            f"CVSS 4.0 {case.cvss40_score or '—'}"
        )
        console.print(f"services: {', '.join(case.services) or '—'}")
        for label, due, done in (
            ("acknowledge", case.acknowledge_due, case.acknowledged_at),
            ("triage", case.triage_due, case.triaged_at),
            ("mitigate", case.mitigate_due, case.mitigated_at),
        ):
            when = f"{due:%Y-%m-%d %H:%M}" if due else "—"
            state = f"done {done:%Y-%m-%d %H:%M}" if done else "open"
            console.print(f"  {label:<12} due {when}  {state}")
        for report in reports:
            console.print(f"  report {report.tracking_id} {report.state} {report.title}")

    run_in_session(work)
