"""``vulnops case export-cve …`` and ``export-csaf``: a case's CVE record and CSAF document
(registered on the ``case`` group)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.cli.common import console, err_console, run_in_session
from vulnops.disclosure import service
from vulnops.settings import get_settings


def export_cve(
    case: str = typer.Argument(..., help="The case's tracking id."),
    cve_id: str | None = typer.Option(
        None, "--cve-id", help="A CVE id (default: the one reserved for the case)."
    ),
) -> None:
    """Print the case's CVE record (CVE JSON 5); exit 1 naming every invalid field."""

    async def work(session: AsyncSession) -> tuple[dict[str, Any], list[str]]:
        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        return await service.cve_record(
            session,
            case_id=found.id,
            cve_id=cve_id,
            settings=get_settings(),
            now=datetime.now(UTC),
        )

    document, problems = run_in_session(work)
    console.print_json(json.dumps(document))
    if problems:
        for problem in problems:
            err_console.print(f"[red]invalid:[/red] {problem}")
        raise typer.Exit(1)


def export_csaf(
    case: str = typer.Argument(..., help="The case's tracking id."),
    vex: bool = typer.Option(False, "--vex", help="A csaf_vex document instead of an advisory."),
) -> None:
    """Print the disclosed case's CSAF 2.0 document."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        return await service.csaf_document(
            session,
            case_id=found.id,
            category="csaf_vex" if vex else "csaf_security_advisory",
            settings=get_settings(),
        )

    console.print_json(json.dumps(run_in_session(work)))
