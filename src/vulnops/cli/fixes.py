"""``vulnops fix …``: a case's fixes and their test evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vulnops.auth.roles import Permission
from vulnops.cli.common import (
    JSON,
    acting_as,
    group,
    print_json,
    print_table,
    run_in_session,
    settings,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.remediation.schemas import FixOut

app = group("Fixes and their test evidence.")
AS = typer.Option(None, "--as", help="Act as this account (email).")


def _show(fixes: list[FixOut], *, as_json: bool = False) -> None:
    if as_json:
        print_json(fixes)
        return
    rows = []
    for fix in fixes:
        cells = []
        for suite in ("compatibility", "data_integrity"):
            report = fix.evidence.get(suite)
            cells.append(
                "—"
                if report is None
                else f"{'passed' if report.passed else 'FAILED'} ({report.tests} tests)"
            )
        ready = "yes" + (" (overridden)" if fix.override_reason else "") if fix.ready else "no"
        rows.append((str(fix.id), fix.service, fix.version, ready, *cells))
    print_table(("fix", "service", "version", "ready", "compatibility", "data-integrity"), rows)


@app.command("create")
def create(
    case: str = typer.Argument(..., help="The case's tracking id."),
    service_key: str = typer.Option(..., "--service"),
    version: str = typer.Option(..., "--version"),
    artifact: str = typer.Option("", "--artifact", help="e.g. an image reference"),
    notes: str = typer.Option("", "--notes"),
    as_user: str | None = AS,
) -> None:
    """Add a fix to a case: the version of one service that carries it."""

    async def work(session: AsyncSession) -> list[FixOut]:
        from vulnops.cases import service as cases
        from vulnops.remediation import service

        actor = await acting_as(session, as_user, Permission.FIXES_MANAGE)
        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        fix = await service.create_fix(
            session,
            case_id=found.id,
            service_key=service_key,
            version=version,
            artifact=artifact,
            notes=notes,
            actor=actor,
        )
        return await service.fix_views(session, [fix])

    _show(run_in_session(work))


@app.command("list")
def list_fixes(
    case: str = typer.Argument(..., help="The case's tracking id."), as_json: bool = JSON
) -> None:
    """A case's fixes, with their evidence."""

    async def work(session: AsyncSession) -> list[FixOut]:
        from vulnops.cases import service as cases
        from vulnops.remediation import service

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        return await service.fix_views(
            session, await service.fixes_of_case(session, case_id=found.id)
        )

    _show(run_in_session(work), as_json=as_json)


@app.command("evidence")
def evidence(
    fix_id: int = typer.Argument(..., help="The fix."),
    report: Path = typer.Argument(..., exists=True, dir_okay=False, help="A JUnit XML report."),
    suite: str = typer.Option(..., "--suite", help="compatibility or data-integrity"),
    as_user: str | None = AS,
) -> None:
    """Upload the JUnit XML results of a suite; a rollout needs both suites passed."""
    data = report.read_bytes()

    async def work(session: AsyncSession) -> list[FixOut]:
        from vulnops.remediation import service

        actor = await acting_as(session, as_user, Permission.FIXES_MANAGE)
        await service.add_evidence(
            session,
            fix_id=fix_id,
            suite=suite,
            data=data,
            file_name=report.name,
            actor=actor,
            now=datetime.now(UTC),
            settings=settings(),
        )
        return await service.fix_views(session, [await service.get_fix(session, fix_id=fix_id)])

    _show(run_in_session(work))


@app.command("override")
def override(
    fix_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why it may roll out without evidence."),
    as_user: str | None = AS,
) -> None:
    """Let a fix roll out without passing evidence (an emergency, on record)."""

    async def work(session: AsyncSession) -> list[FixOut]:
        from vulnops.remediation import service

        actor = await acting_as(session, as_user, Permission.FIXES_OVERRIDE)
        fix = await service.override_evidence(
            session,
            fix_id=fix_id,
            reason=reason,
            actor=actor,
            now=datetime.now(UTC),
            settings=settings(),
        )
        return await service.fix_views(session, [fix])

    _show(run_in_session(work))
