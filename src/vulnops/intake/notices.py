"""What reporters and the triage team are told by email (when SMTP is configured)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.intake.models import Report
from vulnops.mail import service as mail
from vulnops.settings import Settings


def _link(settings: Settings, report: Report) -> str:
    return f"{settings.public_url.rstrip('/')}/reports/{report.id}"


async def acknowledge_receipt(session: AsyncSession, *, settings: Settings, report: Report) -> None:
    """Tell the reporter the report is received (the job a submission enqueues calls this: run
    again after a crash, it queues no second email)."""
    about = f"report:{report.id}"
    if report.contact and not await mail.queued(session, kind="report.acknowledgment", about=about):
        await mail.queue(
            session,
            settings=settings,
            to=report.contact,
            template="report_received",
            context={"report": report, "link": _link(settings, report)},
            kind="report.acknowledgment",
            about=about,
        )


async def status_changed(
    session: AsyncSession, *, settings: Settings, report: Report, note: str | None
) -> None:
    if report.contact and report.reporter_id is not None:
        await mail.queue(
            session,
            settings=settings,
            to=report.contact,
            template="report_status",
            context={"report": report, "note": note, "link": _link(settings, report)},
            kind="report.status",
            about=f"report:{report.id}",
        )


async def message_posted(
    session: AsyncSession, *, settings: Settings, report: Report, from_staff: bool, body: str
) -> None:
    """A reply from staff goes to the reporter; one from the reporter to the triage team."""
    recipient = report.contact if from_staff else settings.triage_email
    if recipient:
        await mail.queue(
            session,
            settings=settings,
            to=recipient,
            template="report_message",
            context={
                "report": report,
                "from_staff": from_staff,
                "body": body,
                "link": _link(settings, report),
            },
            kind="report.message",
            about=f"report:{report.id}",
        )
