"""``vulnops case export-cve …``, ``export-csaf``, ``reserve-cve``, ``publish-cve`` and
``record-cve``: a case's CVE record and CSAF document, and its CVE in CVE Services (registered
on the ``case`` group). Publishing asks the same rules as the API and the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from vulnops.auth.roles import Permission, Role
from vulnops.cli.common import acting_as, err_console, print_json, run_in_session, settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def export_cve(
    case: str = typer.Argument(..., help="The case's tracking id."),
    cve_id: str | None = typer.Option(
        None, "--cve-id", help="A CVE id (default: the one reserved for the case)."
    ),
) -> None:
    """Print the case's CVE record (CVE JSON 5); exit 1 naming every invalid field."""

    async def work(session: AsyncSession) -> tuple[dict[str, Any], list[str]]:
        from vulnops.cases import service as cases
        from vulnops.disclosure import service

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        return await service.cve_record(
            session,
            case_id=found.id,
            cve_id=cve_id,
            settings=settings(),
        )

    document, problems = run_in_session(work)
    print_json(document)
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
        from vulnops.cases import service as cases
        from vulnops.disclosure import service

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        return await service.csaf_document(
            session,
            case_id=found.id,
            category="csaf_vex" if vex else "csaf_security_advisory",
            settings=settings(),
        )

    print_json(run_in_session(work))


AS = typer.Option(None, "--as", help="Act as this account (email); default: the console.")


async def _actor(session: AsyncSession, as_user: str | None) -> tuple[str, bool]:
    """Who acts, and whether they may override a rule: an administrator's account, or the
    operator at the console (who holds the database's keys)."""
    from vulnops.auth import service as users

    actor = await acting_as(session, as_user, Permission.DISCLOSURE_MANAGE)
    if as_user is None:
        return actor, True
    user = await users.get_user_by_email(session, email=as_user)
    return actor, Role(user.role) is Role.ADMIN


def reserve_cve(
    case: str = typer.Argument(..., help="The case's tracking id."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the request; send nothing."),
    as_user: str | None = AS,
) -> None:
    """Reserve a CVE id for the case in CVE Services."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.cases import service as cases
        from vulnops.disclosure import publishing

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        actor, _ = await _actor(session, as_user)
        return await publishing.reserve_cve(
            session,
            case_id=found.id,
            actor=actor,
            settings=settings(),
            now=datetime.now(UTC),
            dry_run=dry_run,
        )

    print_json(run_in_session(work))


def publish_cve(
    case: str = typer.Argument(..., help="The case's tracking id."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the request; send nothing."),
    when_public: bool = typer.Option(
        False, "--when-public", help="During the embargo: publish when it ends."
    ),
    override_reason: str | None = typer.Option(
        None, "--override-reason", help="An administrator's reason to override a rule."
    ),
    as_user: str | None = AS,
) -> None:
    """Publish the case's CVE record: refused (exit 1, naming each rule) before the approved
    disclosure's embargo ends, before the customers were notified, without approved public
    text, or for an invalid record."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.cases import service as cases
        from vulnops.disclosure import publishing

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        actor, is_admin = await _actor(session, as_user)
        return await publishing.publish_cve(
            session,
            case_id=found.id,
            actor=actor,
            settings=settings(),
            now=datetime.now(UTC),
            is_admin=is_admin,
            dry_run=dry_run,
            when_public=when_public,
            override_reason=override_reason,
        )

    print_json(run_in_session(work))


def record_cve(
    case: str = typer.Argument(..., help="The case's tracking id."),
    cve_id: str = typer.Argument(..., help="The CVE id published elsewhere."),
    reason: str = typer.Option(..., "--reason", help="Where and why it was published."),
    published_at: datetime | None = typer.Option(
        None, "--published-at", help="When (default: now)."
    ),
    as_user: str | None = AS,
) -> None:
    """Record a CVE published for the case outside vulnops (an administrator's statement)."""

    async def work(session: AsyncSession) -> str:
        from vulnops.cases import service as cases
        from vulnops.disclosure import publishing

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        actor, is_admin = await _actor(session, as_user)
        when = published_at.replace(tzinfo=published_at.tzinfo or UTC) if published_at else None
        row = await publishing.record_published_cve(
            session,
            case_id=found.id,
            cve_id=cve_id.strip().upper(),
            published_at=when or datetime.now(UTC),
            actor=actor,
            is_admin=is_admin,
            reason=reason,
            settings=settings(),
        )
        return f"{row.cve_id} recorded as published for {case}"

    err_console.print(run_in_session(work), highlight=False)
