"""Use cases for reports: submit, see, assess, merge into cases. Callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, Role
from vulnops.cases import access, team
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.errors import Conflict, Forbidden, Invalid, NotFound
from vulnops.intake import attachment_quota, follow, notices, report_quota, tasks
from vulnops.intake.attachments import StoredFile
from vulnops.intake.models import Attachment, Report
from vulnops.intake.schemas import ReportIn
from vulnops.intake.states import (
    INVALID_REASONS,
    CloseReason,
    ReportState,
    Source,
    check_transition,
)
from vulnops.settings import Settings


def subject(report: Report | int) -> str:
    return f"report:{report if isinstance(report, int) else report.id}"


def source_for(principal: Principal, data: ReportIn) -> Source:
    if principal.role is Role.PARTNER:
        return Source.PARTNER
    if principal.role is Role.RESEARCHER:
        return Source.RESEARCHER
    if principal.can(Permission.REPORTS_SUBMIT_INTERNAL):
        if not data.exercise:
            raise Invalid("an internal report names its exercise (red or blue team) in `exercise`")
        return Source.INTERNAL
    raise Forbidden(f"the {principal.role.value} role cannot submit reports")


async def submit(
    session: AsyncSession,
    *,
    principal: Principal,
    data: ReportIn,
    settings: Settings,
    files: Sequence[StoredFile] = (),
) -> Report:
    """Record a report. What can wait — its acknowledgment email — is a job enqueued in this
    transaction; the event is written last, because appending it locks the head of the event
    log (every writer's) until the caller commits."""
    source = source_for(principal, data)
    if source is not Source.INTERNAL and data.exercise:
        raise Invalid("only internal reports name an exercise")
    await report_quota.admit(session, principal=principal, source=source, settings=settings)
    report = Report(
        source=source.value,
        state=ReportState.NEW.value,
        title=data.title,
        description=data.description,
        service=(data.service or "").strip().lower() or None,
        endpoint=data.endpoint or None,
        reproduction=data.reproduction,
        impact=data.impact,
        reporter_id=principal.user_id,
        contact=data.contact or principal.email,
        credit_name=data.credit_name
        or (principal.display_name if source is not Source.INTERNAL else None),
        exercise=data.exercise,
    )
    session.add(report)
    await session.flush()
    await attachment_quota.check(
        session, uploader_id=principal.user_id, report_id=report.id, files=files, settings=settings
    )
    for stored in files:
        session.add(_attachment_row(report, stored, principal))
    if settings.smtp_enabled and report.contact:
        await tasks.acknowledge_later(session, report_id=report.id)
    await audit.record(
        session,
        subject=subject(report),
        kind="report.submitted",
        actor=principal.actor,
        data={"tracking_id": report.tracking_id, "source": source.value, "files": len(files)},
    )
    return report


async def record_detection(
    session: AsyncSession, *, title: str, description: str, service: str | None, actor: str
) -> Report:
    """A report of an alert from a detection system (no reporter, no acknowledgment email):
    the internal record the page about it points to."""
    report = Report(
        source=Source.DETECTION.value,
        state=ReportState.NEW.value,
        title=title[:300],
        description=description[:100_000] or title[:300],
        service=(service or "").strip().lower() or None,
        reproduction="",
        impact="",
    )
    session.add(report)
    await session.flush()
    await audit.record(
        session,
        subject=subject(report),
        kind="report.submitted",
        actor=actor,
        data={"tracking_id": report.tracking_id, "source": Source.DETECTION.value, "files": 0},
    )
    return report


def _attachment_row(report: Report, stored: StoredFile, principal: Principal) -> Attachment:
    return Attachment(
        report_id=report.id,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_name=stored.storage_name,
        uploaded_by=principal.user_id,
    )


def can_see_all(principal: Principal) -> bool:
    return principal.can(Permission.REPORTS_READ_ALL)


async def visible_report(session: AsyncSession, *, principal: Principal, report_id: int) -> Report:
    """The report, if this principal may see it (its reporter; staff who read all reports,
    unless its case is hidden from them); otherwise 404, whether or not it exists."""
    report = await session.get(Report, report_id)
    mine = report is not None and report.reporter_id == principal.user_id
    if report is None or not (mine or can_see_all(principal)):
        raise NotFound(f"no report {report_id}")
    hidden = (
        not mine
        and report.case_id is not None
        and not await access.may_see(session, viewer=principal, case_id=report.case_id)
    )
    if hidden:
        raise NotFound(f"no report {report_id}")
    return report


async def visible_by_tracking_id(
    session: AsyncSession, *, principal: Principal, tracking_id: str
) -> Report:
    report_id = await session.scalar(
        select(Report.id).where(Report.tracking_id == tracking_id.strip().upper())
    )
    if report_id is None:
        raise NotFound(f"no report {tracking_id}")
    return await visible_report(session, principal=principal, report_id=report_id)


async def reports_of_case(session: AsyncSession, *, case_id: int) -> list[Report]:
    """Every report of a case, oldest first (whoever may read the case sees its reports)."""
    rows = await session.scalars(
        select(Report).where(Report.case_id == case_id).order_by(Report.received_at, Report.id)
    )
    return list(rows)


async def credit_names(session: AsyncSession, *, case_id: int) -> list[str]:
    """The names the case's reporters chose to be credited with, first reporter first; a report
    closed as not a valid finding (spam, not applicable, out of scope) earns no credit."""
    invalid = [reason.value for reason in INVALID_REASONS]
    rows = await session.execute(
        select(Report.credit_name, func.min(Report.received_at).label("first"))
        .where(
            Report.case_id == case_id,
            Report.credit_name.is_not(None),
            or_(Report.close_reason.is_(None), Report.close_reason.not_in(invalid)),
        )
        .group_by(Report.credit_name)
        .order_by("first", Report.credit_name)
    )
    return [name for name, _ in rows.all() if name]


async def attachments(session: AsyncSession, *, report_id: int) -> list[Attachment]:
    rows = await session.scalars(
        select(Attachment).where(Attachment.report_id == report_id).order_by(Attachment.id)
    )
    return list(rows)


async def add_attachments(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: int,
    files: Sequence[StoredFile],
    settings: Settings,
) -> list[Attachment]:
    """Attach stored files to a report, within the uploader's and the report's quotas."""
    report = await visible_report(session, principal=principal, report_id=report_id)
    await attachment_quota.check(
        session, uploader_id=principal.user_id, report_id=report.id, files=files, settings=settings
    )
    rows = [_attachment_row(report, stored, principal) for stored in files]
    session.add_all(rows)
    await session.flush()
    await audit.record(
        session,
        subject=subject(report),
        kind="report.attachments_added",
        actor=principal.actor,
        data={"files": [stored.filename for stored in files]},
    )
    return rows


async def attachment(
    session: AsyncSession, *, principal: Principal, report_id: int, attachment_id: int
) -> Attachment:
    """An attachment: the reporter and staff who see all reports may download it."""
    await visible_report(session, principal=principal, report_id=report_id)
    row = await session.get(Attachment, attachment_id)
    if row is None or row.report_id != report_id:
        raise NotFound(f"no attachment {attachment_id}")
    return row


async def transition(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: int,
    target: ReportState,
    close_reason: CloseReason | None,
    resolution: str | None,
    settings: Settings,
) -> Report:
    report = await visible_report(session, principal=principal, report_id=report_id)
    current = ReportState(report.state)
    check_transition(current, target, close_reason=close_reason, resolution=resolution)
    report.state = target.value
    report.close_reason = close_reason.value if close_reason else None
    if target in {ReportState.CLOSED, ReportState.NEEDS_INFO}:
        report.resolution = resolution
    if target is ReportState.NEEDS_INFO:
        # The question is the team's turn in the conversation: now the reporter owes an answer.
        report.last_staff_message_at = datetime.now(UTC)
    if current is ReportState.CLOSED:
        report.resolution = None
    await session.flush()
    await audit.record(
        session,
        subject=subject(report),
        kind="report.state_changed",
        actor=principal.actor,
        data={
            "from": current.value,
            "to": target.value,
            "close_reason": report.close_reason,
            "note": resolution,
        },
    )
    await notices.status_changed(session, settings=settings, report=report, note=resolution)
    return report


async def original_report_id(session: AsyncSession, *, case_id: int) -> int | None:
    """The earliest valid report of a case: its reporter keeps priority for credit and award."""
    invalid = [reason.value for reason in INVALID_REASONS]
    return await session.scalar(
        select(Report.id)
        .where(
            Report.case_id == case_id,
            or_(Report.close_reason.is_(None), Report.close_reason.not_in(invalid)),
        )
        .order_by(Report.received_at, Report.id)
        .limit(1)
    )


async def merge_into_case(
    session: AsyncSession,
    *,
    principal: Principal,
    report_id: int,
    case_id: int,
    settings: Settings,
) -> Report:
    """Attach a report to a case. The earliest valid report stays the original and follows the
    case (accepted, resolved, published); a later one is closed as a duplicate of it (its
    reporter reads the original's tracking number, not its content)."""
    report = await visible_report(session, principal=principal, report_id=report_id)
    if not await access.may_see(session, viewer=principal, case_id=case_id):
        raise NotFound(f"no case {case_id}")
    case = await cases.get_case(session, case_id=case_id)
    if report.case_id == case.id:
        return report
    if report.case_id is not None:
        raise Conflict(f"{report.tracking_id} already belongs to another case")
    report.case_id = case.id
    await session.flush()
    original = await original_report_id(session, case_id=case.id)
    before = ReportState(report.state)
    if before is ReportState.CLOSED:
        pass  # a closed report keeps its reason (spam stays spam) when filed with a case
    elif original == report.id:
        report.state = (await follow.state_for(session, case_id=case.id)).value
    else:
        first = await session.get(Report, original)
        assert first is not None
        report.state = ReportState.CLOSED.value
        report.close_reason = CloseReason.DUPLICATE.value
        report.duplicate_of_id = first.id
        report.resolution = (
            f"This report duplicates {first.tracking_id}, which reached us earlier; it is "
            "tracked with it."
        )
    await session.flush()
    await audit.record(
        session,
        subject=subject(report),
        kind="report.merged",
        actor=principal.actor,
        data={"case": case.tracking_id, "original": original == report.id, "state": report.state},
    )
    await audit.record(
        session,
        subject=cases.subject(case),
        kind="case.report_added",
        actor=principal.actor,
        data={"report": report.tracking_id, "original": original == report.id},
    )
    if report.state != before.value:
        await notices.status_changed(
            session, settings=settings, report=report, note=report.resolution
        )
    return report


async def open_case_from_reports(
    session: AsyncSession,
    *,
    principal: Principal,
    title: str,
    summary: str,
    services: Sequence[str],
    report_ids: Sequence[int],
    owner_id: int | None,
    responder_id: int | None,
    settings: Settings,
    now: datetime,
    restricted: bool | None = None,
) -> tuple[Case, list[Report]]:
    """Open a case (directly, or from reports: its clock starts at the first of them)."""
    reports = []
    for report_id in dict.fromkeys(report_ids):
        reports.append(await visible_report(session, principal=principal, report_id=report_id))
    taken = [report.tracking_id for report in reports if report.case_id is not None]
    if taken:
        raise Conflict(f"already in a case: {', '.join(taken)}")
    reports.sort(key=lambda report: (report.received_at, report.id))
    services = list(services) or [report.service for report in reports if report.service]
    case = await cases.open_case(
        session,
        title=title,
        summary=summary,
        services=services,
        owner_id=owner_id,
        responder_id=responder_id,
        restricted=restricted,
        started_at=reports[0].received_at if reports else None,
        actor=principal.actor,
        settings=settings,
        now=now,
    )
    await team.add_creator(session, case=case, principal=principal)
    merged = [
        await merge_into_case(
            session, principal=principal, report_id=report.id, case_id=case.id, settings=settings
        )
        for report in reports
    ]
    return case, merged
