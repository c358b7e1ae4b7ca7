"""The thread between a reporter and the responders, and a report's status history."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission
from vulnops.errors import Forbidden
from vulnops.intake import notices
from vulnops.intake.models import Report, ReportMessage
from vulnops.intake.schemas import MessageOut, StatusChange
from vulnops.intake.service import subject, visible_report
from vulnops.intake.states import ReportState
from vulnops.settings import Settings


async def post(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: int,
    body: str,
    settings: Settings,
) -> ReportMessage:
    report = await visible_report(session, principal=principal, report_id=report_id)
    from_staff = report.reporter_id != principal.user_id
    if from_staff and not principal.can(Permission.REPORTS_TRIAGE):
        raise Forbidden("only the reporter and the triage team write in a report's thread")
    message = ReportMessage(
        report_id=report.id, author_id=principal.user_id, from_staff=from_staff, body=body
    )
    session.add(message)
    now = datetime.now(UTC)
    if from_staff:
        report.last_staff_message_at = now
    else:
        report.last_reporter_message_at = now
    await session.flush()
    await audit.record(
        session,
        subject=subject(report),
        kind="report.message",
        actor=principal.actor,
        data={"message_id": message.id, "from_staff": from_staff},
    )
    await notices.message_posted(
        session, settings=settings, report=report, from_staff=from_staff, body=body
    )
    return message


async def thread(
    session: AsyncSession, *, principal: Principal, report_id: int
) -> list[MessageOut]:
    await visible_report(session, principal=principal, report_id=report_id)
    rows = await session.execute(
        select(ReportMessage, User.display_name, User.email)
        .join(User, User.id == ReportMessage.author_id)
        .where(ReportMessage.report_id == report_id)
        .order_by(ReportMessage.created_at, ReportMessage.id)
    )
    return [
        MessageOut(
            id=message.id,
            from_staff=message.from_staff,
            author="Security response team" if message.from_staff else (name or email),
            body=message.body,
            created_at=message.created_at,
        )
        for message, name, email in rows.all()
    ]


def received(report: Report) -> StatusChange:
    """The status every report starts with: new, since it was received."""
    return StatusChange(state=ReportState.NEW.value, at=report.received_at, note=None)


async def history(session: AsyncSession, *, report: Report) -> list[StatusChange]:
    """Every status the report had, oldest first, from the event log."""
    changes = [received(report)]
    events = await audit.events_for(
        session, subject=subject(report), kinds=["report.state_changed", "report.merged"]
    )
    for event in events:
        if event.kind == "report.state_changed":
            changes.append(
                StatusChange(state=event.data["to"], at=event.occurred_at, note=event.data["note"])
            )
        elif event.kind == "report.merged" and event.data["state"] != changes[-1].state:
            changes.append(StatusChange(state=event.data["state"], at=event.occurred_at, note=None))
    return changes
