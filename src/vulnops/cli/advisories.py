"""``vulnops advisory …``: a case's confidential advisory, from draft to deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vulnops.auth.roles import Permission
from vulnops.cli.common import (
    JSON,
    acting_as,
    console,
    group,
    print_json,
    print_table,
    run_in_session,
    settings,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.notify.service import SendResult

app = group("Confidential customer advisories.")
AS = typer.Option(None, "--as", help="Act as this account (email).")


async def _case_id(session: AsyncSession, tracking_id: str) -> int:
    from vulnops.cases import service as cases

    return (await cases.get_case_by_tracking_id(session, tracking_id=tracking_id)).id


@app.command("show")
def show(
    case: str = typer.Argument(..., help="The case's tracking id."), as_json: bool = JSON
) -> None:
    """The advisory's versions and, per version, its deliveries by channel and status."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.errors import NotFound
        from vulnops.notify import advisory_view

        shown = await advisory_view.overview(session, case_id=await _case_id(session, case))
        if shown is None:
            raise NotFound(f"{case} has no advisory yet")
        return shown

    shown = run_in_session(work)
    if as_json:
        print_json(shown)
        return
    print_table(
        ("version", "title", "status", "sent", "portal", "email", "webhook", "acked"),
        [
            (
                str(version["number"]),
                version["title"],
                version["status"],
                f"{version['sent_at']:%Y-%m-%d %H:%M}" if version["sent_at"] else "",
                *(
                    " ".join(f"{k} {v}" for k, v in sorted(version["channels"].get(c, {}).items()))
                    for c in ("portal", "email", "webhook")
                ),
                f"{version['acknowledged']}/{shown['recipients']}",
            )
            for version in shown["versions"]
        ],
    )


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
    body = template.read_text() if template else None

    async def work(session: AsyncSession) -> int:
        from vulnops.notify import service
        from vulnops.notify.rendering import DEFAULT_BODY
        from vulnops.notify.schemas import DraftIn

        actor = await acting_as(session, as_user, Permission.ADVISORIES_WRITE)
        given = DraftIn(
            title=title,
            summary=summary,
            exposed_since=exposed_since.replace(tzinfo=exposed_since.tzinfo or UTC),
            action_required=bool(action_steps),
            action_steps=action_steps,
            body=body or DEFAULT_BODY,
        )
        version = await service.save_draft(
            session,
            case_id=await _case_id(session, case),
            draft=given,
            actor=actor,
            settings=settings(),
        )
        return version.number

    console.print(f"version {run_in_session(work)} drafted; it needs approval")


def _decide(case: str, as_user: str | None, *, approve: bool, comment: str | None) -> int:
    async def work(session: AsyncSession) -> int:
        from vulnops.errors import Invalid
        from vulnops.notify import service

        if as_user is None:
            raise Invalid("--as: name the communications approver (an account's email)")
        actor = await acting_as(session, as_user, Permission.ADVISORIES_APPROVE)
        version = await service.decide(
            session,
            case_id=await _case_id(session, case),
            actor=actor,
            approve=approve,
            comment=comment,
            settings=settings(),
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

    async def work(session: AsyncSession) -> SendResult:
        from vulnops.notify import service

        actor = await acting_as(session, as_user, Permission.ADVISORIES_SEND)
        return await service.send(
            session,
            case_id=await _case_id(session, case),
            actor=actor,
            settings=settings(),
            now=datetime.now(UTC),
        )

    sent = run_in_session(work)
    console.print(
        f"version {sent.version} sent to {sent.recipients:,} tenants "
        f"({sent.deliveries:,} deliveries; {sent.in_languages()})"
    )


@app.command("withdraw")
def withdraw(
    case: str = typer.Argument(..., help="The case's tracking id."),
    reason: str = typer.Option(..., "--reason", help="Why: the tenants read it."),
    as_user: str | None = AS,
) -> None:
    """Withdraw the sent advisory (sent in error): nothing more is sent, its conversations
    close, its tenants read it marked withdrawn."""

    async def work(session: AsyncSession) -> int:
        from vulnops.notify import withdrawal

        actor = await acting_as(session, as_user, Permission.ADVISORIES_SEND)
        _, cancelled = await withdrawal.withdraw(
            session,
            case_id=await _case_id(session, case),
            reason=reason,
            actor=actor,
            now=datetime.now(UTC),
        )
        return cancelled

    console.print(f"withdrawn; {run_in_session(work):,} undelivered messages cancelled")


@app.command("resend-dead")
def resend_dead(
    case: str = typer.Argument(..., help="The case's tracking id."),
    as_user: str | None = AS,
) -> None:
    """Queue every dead delivery of the case's advisory again."""

    async def work(session: AsyncSession) -> int:
        from vulnops.errors import NotFound
        from vulnops.notify import delivery_admin, service

        actor = await acting_as(session, as_user, Permission.DELIVERIES_MANAGE)
        advisory = await service.find(session, case_id=await _case_id(session, case))
        if advisory is None:
            raise NotFound(f"{case} has no advisory yet")
        return await delivery_admin.resend(session, actor=actor, advisory_id=advisory.id)

    console.print(f"{run_in_session(work):,} dead deliveries queued again")


@app.command("questions")
def questions(as_json: bool = JSON) -> None:
    """The customers' questions waiting for an answer across cases, the soonest due first."""

    async def work(session: AsyncSession) -> list[Any]:
        from vulnops.notify import conversation

        found = await conversation.waiting(session, viewer=None, now=datetime.now(UTC))
        return list(found.items)

    waiting = run_in_session(work)
    if as_json:
        print_json(waiting)
        return
    print_table(
        ("case", "tenant", "asked", "answer by", "overdue"),
        [
            (
                q.tracking_id,
                q.tenant_name,
                f"{q.waiting_since:%Y-%m-%d %H:%M}",
                f"{q.answer_due:%Y-%m-%d %H:%M}",
                "yes" if q.overdue else "",
            )
            for q in waiting
        ],
        footer=f"{len(waiting)} waiting",
    )


async def _tenant_id(session: AsyncSession, key: str) -> int:
    from vulnops.tenants import service as tenants

    return (await tenants.get_tenant_by_key(session, key=key)).id


@app.command("conversation")
def show_conversation(
    case: str = typer.Argument(..., help="The case's tracking id."),
    tenant: str = typer.Argument(..., help="The tenant's key."),
    as_json: bool = JSON,
) -> None:
    """A tenant's conversation with the team about the case's advisory, oldest first."""

    async def work(session: AsyncSession) -> Any:
        from vulnops.notify import conversation

        return await conversation.staff_thread(
            session,
            case_id=await _case_id(session, case),
            tenant_id=await _tenant_id(session, tenant),
            now=datetime.now(UTC),
        )

    head, messages = run_in_session(work)
    if as_json:
        print_json({"conversation": head, "messages": messages})
        return
    for message in messages:
        side = "team" if message.from_staff else head.tenant_name
        console.print(f"[bold]{message.author}[/] ({side}, {message.created_at:%Y-%m-%d %H:%M})")
        console.print(message.body, markup=False, highlight=False)
        console.print()
    if head.answer_due is not None:
        console.print(f"waiting for an answer, due {head.answer_due:%Y-%m-%d %H:%M} UTC")


@app.command("answer")
def answer(
    case: str = typer.Argument(..., help="The case's tracking id."),
    tenant: str = typer.Argument(..., help="The tenant's key."),
    body: str = typer.Option(..., "--body", help="The answer (Markdown)."),
    as_user: str = typer.Option(..., "--as", help="The responder answering (an account's email)."),
) -> None:
    """Answer a tenant about the case's advisory (its security contacts are told, without
    detail, to read it in the portal)."""

    async def work(session: AsyncSession) -> int:
        from vulnops.auth import service as users
        from vulnops.notify import conversation

        await acting_as(session, as_user, Permission.ADVISORIES_WRITE)
        user = await users.get_user_by_email(session, email=as_user)
        message = await conversation.answer(
            session,
            case_id=await _case_id(session, case),
            tenant_id=await _tenant_id(session, tenant),
            author=users.principal_of(user, via="token"),
            body=body,
            settings=settings(),
            now=datetime.now(UTC),
        )
        return message.id

    console.print(f"answer {run_in_session(work)} sent")


@app.command("progress")
def progress(
    case: str = typer.Argument(..., help="The case's tracking id."), as_json: bool = JSON
) -> None:
    """Each tenant's marks on its affected resources: checked, needs help, not marked."""

    async def work(session: AsyncSession) -> list[Any]:
        from vulnops.errors import NotFound
        from vulnops.notify import resource_marks, service

        advisory = await service.find(session, case_id=await _case_id(session, case))
        if advisory is None:
            raise NotFound(f"{case} has no advisory yet")
        found = await resource_marks.progress(session, advisory_id=advisory.id, per_page=200)
        return list(found.items)

    rows = run_in_session(work)
    if as_json:
        print_json(rows)
        return
    print_table(
        ("tenant", "resources", "checked", "needs help", "not marked"),
        [
            (p.tenant_key, str(p.resources), str(p.checked), str(p.needs_help), str(p.unmarked))
            for p in rows
        ],
    )
