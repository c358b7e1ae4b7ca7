"""``vulnops report …`` and ``vulnops case …``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vulnops.cases.severity import Rating
from vulnops.cases.states import CaseState
from vulnops.cli.common import (
    JSON,
    console,
    fail,
    group,
    print_json,
    print_table,
    run_in_session,
    settings,
)
from vulnops.intake.states import ReportState, Source

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

reports_app = group("Reports.")
cases_app = group("Cases.")


def _load(path: Path) -> object:
    """The file's document, within the bounds an upload of it would have (a SARIF log's size
    and every document's nesting)."""
    from vulnops.errors import DomainError
    from vulnops.parsing_limits import MAX_YAML_BYTES, load_json, load_yaml

    text = path.read_text()
    try:
        if path.suffix.lower() in {".json", ".sarif"}:
            return load_json(text, max_bytes=settings().max_sarif_bytes, source=str(path))
        return load_yaml(text, max_bytes=MAX_YAML_BYTES, source=str(path))[0]
    except DomainError as error:
        raise fail(error.detail.splitlines()[0], 2) from None


def _report_in(document: object, path: Path) -> Any:
    """The report a file describes; what is wrong with it, field by field, in one line."""
    from pydantic import ValidationError

    from vulnops.intake.schemas import ReportIn

    try:
        return ReportIn.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'report'}: {item['msg']}"
            for item in error.errors()
        )
        raise fail(f"{path}: {problems}", 2) from None


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
    data = None if is_sarif else _report_in(document, file)

    async def work(session: AsyncSession) -> list[str]:
        from vulnops.auth import service as users
        from vulnops.intake import scans, service
        from vulnops.intake.sarif import findings

        user = await users.get_user_by_email(session, email=as_user)
        principal = users.principal_of(user, via="session")
        if data is None:
            created, known = await scans.import_log(
                session,
                principal=principal,
                log=findings(document),
                service=service_name,
                settings=settings(),
            )
            console.print(f"{len(created)} new report(s), {known} already known")
            return [report.tracking_id for report in created]
        report = await service.submit(session, principal=principal, data=data, settings=settings())
        return [report.tracking_id]

    for tracking_id in run_in_session(work):
        console.print(tracking_id, highlight=False)


@reports_app.command("list")
def list_reports(
    as_user: str = typer.Option(..., "--as", help="List what this account may see."),
    state: ReportState | None = typer.Option(None),
    source: Source | None = typer.Option(None),
    search: str | None = typer.Option(None, help="Words, or a tracking number."),
    page: int = typer.Option(1, min=1),
    as_json: bool = JSON,
) -> None:
    """List reports, newest first, a page at a time."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.auth import service as users
        from vulnops.intake import listing
        from vulnops.intake.schemas import ReportSummary

        user = await users.get_user_by_email(session, email=as_user)
        found = await listing.list_reports(
            session,
            principal=users.principal_of(user, via="session"),
            state=state,
            source=source,
            search=search,
            page=page,
        )
        return {
            "items": [ReportSummary.model_validate(report).model_dump() for report in found.items],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
        }

    result = run_in_session(work)
    if as_json:
        print_json(result)
        return
    print_table(
        ("tracking", "title", "source", "state", "received"),
        [
            (
                r["tracking_id"],
                r["title"],
                r["source"],
                r["state"] + (f" ({r['close_reason']})" if r["close_reason"] else ""),
                f"{r['received_at']:%Y-%m-%d %H:%M}",
            )
            for r in result["items"]
        ],
        footer=f"page {result['page']} of {result['pages']} · {result['total']} reports",
    )


@cases_app.command("list")
def list_cases(
    state: CaseState | None = typer.Option(None),
    rating: Rating | None = typer.Option(None),
    overdue: bool = typer.Option(False, help="Only cases with a deadline passed and unmet."),
    search: str | None = typer.Option(None, help="Words, or a tracking id."),
    page: int = typer.Option(1, min=1),
    as_json: bool = JSON,
) -> None:
    """List cases, newest first (overdue: nearest deadline first)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.cases import service as cases
        from vulnops.cases.schemas import CaseOut

        found = await cases.list_cases(
            session,
            viewer=None,  # the operator's CLI: every case
            now=datetime.now(UTC),
            state=state,
            rating=rating,
            overdue=overdue,
            search=search,
            sort="due" if overdue else "opened",
            page=page,
        )
        return {
            "items": [CaseOut.model_validate(case).model_dump() for case in found.items],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
        }

    result = run_in_session(work)
    if as_json:
        print_json(result)
        return
    print_table(
        ("case", "title", "rating", "ssvc", "state", "next deadline"),
        [
            (
                c["tracking_id"],
                c["title"],
                c["rating"] or "unrated",
                c["ssvc_decision"] or "",
                c["state"],
                f"{c['next_due']:%Y-%m-%d %H:%M}" if c["next_due"] else "",
            )
            for c in result["items"]
        ],
        footer=f"page {result['page']} of {result['pages']} · {result['total']} cases",
    )


@cases_app.command("show")
def show(tracking_id: str, as_json: bool = JSON) -> None:
    """Show one case: state, severity, deadlines, milestones, reports."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.cases import milestones
        from vulnops.cases import service as cases
        from vulnops.cases.schemas import CaseOut
        from vulnops.intake import service

        case = await cases.get_case_by_tracking_id(session, tracking_id=tracking_id)
        body = CaseOut.model_validate(case).model_dump()
        body["milestones"] = [
            view.__dict__ for view in (await milestones.reached(session, case_id=case.id)).values()
        ]
        body["reports"] = [
            {"tracking_id": r.tracking_id, "state": r.state, "title": r.title}
            for r in await service.reports_of_case(session, case_id=case.id)
        ]
        return body

    case = run_in_session(work)
    if as_json:
        print_json(case)
        return
    console.print(f"[bold]{case['tracking_id']}[/bold] {case['title']}", highlight=False)
    console.print(
        f"state {case['state']} · rating {case['rating'] or 'unrated'} · "
        f"SSVC {case['ssvc_decision'] or '—'} · CVSS 3.1 {case['cvss31_score'] or '—'} · "
        f"CVSS 4.0 {case['cvss40_score'] or '—'}",
        highlight=False,
    )
    console.print(f"services: {', '.join(case['services']) or '—'}", highlight=False)
    for label in ("acknowledge", "triage", "mitigate"):
        due, done = case[f"{label}_due"], case[f"{label[:-1]}ed_at"]
        when = f"{due:%Y-%m-%d %H:%M}" if due else "—"
        state = f"done {done:%Y-%m-%d %H:%M}" if done else "open"
        console.print(f"  {label:<12} due {when}  {state}", highlight=False)
    for fact in case["milestones"]:
        skipped = " (skipped)" if fact["skipped"] else ""
        console.print(
            f"  {fact['milestone'].value:<20} {fact['at']:%Y-%m-%d %H:%M} {fact['actor']}{skipped}",
            highlight=False,
        )
    for report in case["reports"]:
        console.print(
            f"  report {report['tracking_id']} {report['state']} {report['title']}",
            highlight=False,
        )
