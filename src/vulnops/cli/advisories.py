"""``vulnops advisory …``: a case's confidential customer advisory and its deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.roles import Permission
from vulnops.cases import service as cases
from vulnops.cli.common import acting_as, console, run_in_session
from vulnops.errors import Invalid, NotFound
from vulnops.notify import delivery_admin, service
from vulnops.notify.rendering import DEFAULT_BODY
from vulnops.notify.schemas import DraftIn
from vulnops.settings import get_settings

app = typer.Typer(help="Confidential customer advisories.", no_args_is_help=True)
AS = typer.Option(None, "--as", help="Act as this account (email).")


async def _case_id(session: AsyncSession, tracking_id: str) -> int:
    return (await cases.get_case_by_tracking_id(session, tracking_id=tracking_id)).id


@app.command("show")
def show(case: str = typer.Argument(..., help="The case's tracking id.")) -> None:
    """The advisory's versions and, per version, its deliveries by channel and status."""

    async def work(session: AsyncSession) -> None:
        shown = await service.overview(session, case_id=await _case_id(session, case))
        if shown is None:
            raise NotFound(f"{case} has no advisory yet")
        table = Table("version", "title", "status", "sent", "portal", "email", "webhook", "acked")
        for version in shown["versions"]:
            channels = version["channels"]
            table.add_row(
                str(version["number"]),
                version["title"],
                version["status"],
                f"{version['sent_at']:%Y-%m-%d %H:%M}" if version["sent_at"] else "",
                *(
                    " ".join(f"{k} {v}" for k, v in sorted(channels.get(c, {}).items()))
                    for c in ("portal", "email", "webhook")
                ),
                f"{version['acknowledged']}/{shown['recipients']}",
            )
        console.print(table)

    run_in_session(work)


@app.command("draft")
def draft(
    case: str = typer.Argument(..., help="The case's tracking id."),
    title: str = typer.Option(..., "--title"),
    summary: str = typer.Option(..., "--summary", help="What happened, and when."),
    exposed_since: datetime = typer.Option(..., "--exposed-since", help="ISO date (UTC)."),
    action_steps: str = typer.Option(
        "", "--action-steps", help="What the customer must do (makes action required)."
    ),
    template: Path | None = typer.Option(
        None, "--template", exists=True, dir_okay=False, help="A Jinja2 body (default: ours)."
    ),
    as_user: str | None = AS,
) -> None:
    """Write the advisory's next version (a draft until a communications approver approves)."""
    body = template.read_text() if template else DEFAULT_BODY

    async def work(session: AsyncSession) -> int:
        actor = await acting_as(session, as_user, Permission.ADVISORIES_WRITE)
        given = DraftIn(
            title=title,
            summary=summary,
            exposed_since=exposed_since.replace(tzinfo=exposed_since.tzinfo or UTC),
            action_required=bool(action_steps),
            action_steps=action_steps,
            body=body,
        )
        version = await service.save_draft(
            session,
            case_id=await _case_id(session, case),
            draft=given,
            actor=actor,
            settings=get_settings(),
        )
        return version.number

    console.print(f"version {run_in_session(work)} drafted; it needs approval")


def _decide(case: str, as_user: str | None, *, approve: bool, comment: str | None) -> int:
    async def work(session: AsyncSession) -> int:
        if as_user is None:
            raise Invalid("--as: name the communications approver (an account's email)")
        actor = await acting_as(session, as_user, Permission.ADVISORIES_APPROVE)
        version = await service.decide(
            session,
            case_id=await _case_id(session, case),
            actor=actor,
            approve=approve,
            comment=comment,
            settings=get_settings(),
            now=datetime.now(UTC),
        )
        return version.number

    return run_in_session(work)


@app.command("approve")
def approve(
    case: str = typer.Argument(..., help="The case's tracking id."),
    as_user: str | None = typer.Option(None, "--as", help="The communications approver."),
    comment: str | None = typer.Option(None, "--comment", help="Kept with the approval."),
) -> None:
    """Approve the draft: a communications approver who did not write it (four eyes)."""
    console.print(f"version {_decide(case, as_user, approve=True, comment=comment)} approved")


@app.command("reject")
def reject(
    case: str = typer.Argument(..., help="The case's tracking id."),
    comment: str = typer.Option(..., "--comment", help="Why: the author reads it."),
    as_user: str | None = typer.Option(None, "--as", help="The communications approver."),
) -> None:
    """Send the draft back to its author with a comment."""
    console.print(f"version {_decide(case, as_user, approve=False, comment=comment)} rejected")


@app.command("send")
def send(
    case: str = typer.Argument(..., help="The case's tracking id."),
    as_user: str | None = AS,
) -> None:
    """Send the approved version to every affected tenant (portal, email, webhook)."""

    async def work(session: AsyncSession) -> service.SendResult:
        actor = await acting_as(session, as_user, Permission.ADVISORIES_SEND)
        return await service.send(
            session,
            case_id=await _case_id(session, case),
            actor=actor,
            settings=get_settings(),
            now=datetime.now(UTC),
        )

    result = run_in_session(work)
    console.print(
        f"version {result.version} sent to {result.recipients:,} tenants "
        f"({result.deliveries:,} deliveries)"
    )


@app.command("resend-dead")
def resend_dead(
    case: str = typer.Argument(..., help="The case's tracking id."),
    as_user: str | None = AS,
) -> None:
    """Queue every dead delivery of the case's advisory again."""

    async def work(session: AsyncSession) -> int:
        actor = await acting_as(session, as_user, Permission.DELIVERIES_MANAGE)
        advisory = await service.find(session, case_id=await _case_id(session, case))
        if advisory is None:
            raise NotFound(f"{case} has no advisory yet")
        return await delivery_admin.resend(session, actor=actor, advisory_id=advisory.id)

    console.print(f"{run_in_session(work):,} dead deliveries queued again")
