"""JSON API: reports, their files and threads, triage, scanner imports, opening cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.cases import service as cases
from vulnops.cases.schemas import CaseIn, CaseOut
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.diskspace import ensure_upload_room
from vulnops.intake import attachments as files
from vulnops.intake import duplicates, listing, messages, scans, service
from vulnops.intake.models import Attachment, Report
from vulnops.intake.sarif import SOURCE as SARIF_SOURCE
from vulnops.intake.sarif import findings
from vulnops.intake.schemas import (
    AttachmentOut,
    Candidate,
    MergeIn,
    MessageIn,
    MessageOut,
    ReportIn,
    ReportOut,
    ReportSummary,
    ScanImportOut,
    StatusChange,
    TransitionIn,
)
from vulnops.intake.states import ReportState, Source
from vulnops.parsing_limits import load_json, read_bounded
from vulnops.settings import Settings

router = APIRouter(prefix="/api", tags=["reports"])
VIEW = allowed(Permission.REPORTS_VIEW)
SUBMIT = allowed(Permission.REPORTS_SUBMIT, Permission.REPORTS_SUBMIT_INTERNAL)
TRIAGE = allowed(Permission.REPORTS_TRIAGE)
CASE_REPORTS = allowed(Permission.CASES_READ)  # a case's reports are the case's to read


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(
    report: Report,
    *,
    case_tracking_id: str | None,
    attachments: list[Attachment],
    history: list[StatusChange],
) -> ReportOut:
    return ReportOut.model_validate(
        {
            **ReportSummary.model_validate(report).model_dump(),
            "description": report.description,
            "reproduction": report.reproduction,
            "impact": report.impact,
            "resolution": report.resolution,
            "contact": report.contact,
            "credit_name": report.credit_name,
            "exercise": report.exercise,
            "scanner": report.scanner,
            "rule_id": report.rule_id,
            "case_tracking_id": case_tracking_id,
            "attachments": [AttachmentOut.model_validate(row) for row in attachments],
            "history": history,
        }
    )


async def report_out(session: SessionDep, report: Report) -> ReportOut:
    tracking = await cases.tracking_ids(
        session, case_ids={report.case_id} if report.case_id else set()
    )
    return _out(
        report,
        case_tracking_id=tracking.get(report.case_id) if report.case_id else None,
        attachments=await service.attachments(session, report_id=report.id),
        history=await messages.history(session, report=report),
    )


def submitted_out(report: Report) -> ReportOut:
    """A report as its submission left it — in no case, without files, new — built from what
    the submission holds: reading it back after the commit (another transaction, three
    queries) cost as much CPU as the submission itself."""
    return _out(report, case_tracking_id=None, attachments=[], history=[messages.received(report)])


@router.post("/reports", status_code=status.HTTP_201_CREATED)
async def submit_report(
    request: Request, body: ReportIn, session: SessionDep, principal: Principal = require(SUBMIT)
) -> ReportOut:
    """Submit a report; it gets a tracking number and an acknowledgment at once."""
    report = await service.submit(
        session, principal=principal, data=body, settings=_settings(request)
    )
    await session.commit()
    return submitted_out(report)


@router.get("/reports")
async def list_reports(
    session: SessionDep,
    state: ReportState | None = None,
    source: Source | None = None,
    service_name: Annotated[Text | None, Query(alias="service", max_length=100)] = None,
    case_id: Id | None = None,
    awaiting_team: bool = False,
    q: Annotated[Text | None, Query(max_length=200)] = None,
    sort: Text = "received",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(VIEW),
) -> PageOut[ReportSummary]:
    """Reports one may see (researchers and partners: their own), filtered and paged;
    ``awaiting_team``: those whose reporter wrote last, waiting for the team's answer."""
    reports = await listing.list_reports(
        session,
        principal=principal,
        state=state,
        source=source,
        service=service_name,
        case_id=case_id,
        awaiting_team=awaiting_team,
        search=q,
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return PageOut[ReportSummary].of(reports, ReportSummary.model_validate)


@router.get("/reports/{report_id:int}")
async def get_report(
    report_id: Id, session: SessionDep, principal: Principal = require(VIEW)
) -> ReportOut:
    report = await service.visible_report(session, principal=principal, report_id=report_id)
    return await report_out(session, report)


@router.post("/reports/{report_id:int}/attachments", status_code=status.HTTP_201_CREATED)
async def add_attachments(
    request: Request,
    report_id: Id,
    session: SessionDep,
    upload: Annotated[list[UploadFile], File(alias="file")],
    principal: Principal = require(VIEW),
) -> list[AttachmentOut]:
    """Attach files (form field ``file``, repeatable); each at most the configured size, all
    within the uploader's daily and the report's attachment quotas."""
    settings = _settings(request)
    await service.visible_report(session, principal=principal, report_id=report_id)
    ensure_upload_room(request)
    stored: list[files.StoredFile] = []
    try:
        stored = await files.store_all(
            upload, directory=settings.attachments_dir, limit=settings.max_attachment_bytes
        )
        rows = await service.add_attachments(
            session, principal=principal, report_id=report_id, files=stored, settings=settings
        )
        await session.commit()
    except BaseException:
        files.discard(settings.attachments_dir, stored)
        raise
    return [AttachmentOut.model_validate(row) for row in rows]


def download(settings: Settings, row: files.Downloadable) -> FileResponse:
    """Always a download, never rendered: octet-stream, attachment, and a sandboxing CSP."""
    return FileResponse(
        files.path_of(settings.attachments_dir, row.storage_name),
        media_type="application/octet-stream",
        filename=row.filename,
        content_disposition_type="attachment",
        headers={"Content-Security-Policy": "sandbox", "Cache-Control": "private, no-store"},
    )


@router.get(
    "/reports/{report_id:int}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_attachment(
    request: Request,
    report_id: Id,
    attachment_id: Id,
    session: SessionDep,
    principal: Principal = require(VIEW),
) -> FileResponse:
    row = await service.attachment(
        session, principal=principal, report_id=report_id, attachment_id=attachment_id
    )
    return download(_settings(request), row)


@router.get("/reports/{report_id:int}/messages")
async def list_messages(
    report_id: Id, session: SessionDep, principal: Principal = require(VIEW)
) -> list[MessageOut]:
    return await messages.thread(session, principal=principal, report_id=report_id)


@router.post("/reports/{report_id:int}/messages", status_code=status.HTTP_201_CREATED)
async def post_message(
    request: Request,
    report_id: Id,
    body: MessageIn,
    session: SessionDep,
    principal: Principal = require(VIEW),
) -> list[MessageOut]:
    """Write in the report's thread; the other side is told (by email, when configured)."""
    await messages.post(
        session,
        principal=principal,
        report_id=report_id,
        body=body.body,
        settings=_settings(request),
    )
    await session.commit()
    return await messages.thread(session, principal=principal, report_id=report_id)


@router.get("/reports/{report_id:int}/duplicates")
async def duplicate_candidates(
    report_id: Id,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    principal: Principal = require(TRIAGE),
) -> list[Candidate]:
    """Earlier reports and cases that look like this report, most alike first."""
    report = await service.visible_report(session, principal=principal, report_id=report_id)
    return await duplicates.candidates(session, report=report, viewer=principal, limit=limit)


@router.post("/reports/{report_id:int}/transition")
async def transition_report(
    request: Request,
    report_id: Id,
    body: TransitionIn,
    session: SessionDep,
    principal: Principal = require(TRIAGE),
) -> ReportOut:
    report = await service.transition(
        session,
        principal=principal,
        report_id=report_id,
        target=body.state,
        close_reason=body.close_reason,
        resolution=body.resolution,
        settings=_settings(request),
    )
    await session.commit()
    return await report_out(session, report)


@router.post("/reports/{report_id:int}/merge")
async def merge_report(
    request: Request,
    report_id: Id,
    body: MergeIn,
    session: SessionDep,
    principal: Principal = require(TRIAGE),
) -> ReportOut:
    """Put the report into a case; a later report than the case's original becomes a duplicate."""
    report = await service.merge_into_case(
        session,
        principal=principal,
        report_id=report_id,
        case_id=body.case_id,
        settings=_settings(request),
    )
    await session.commit()
    return await report_out(session, report)


async def read_sarif(upload: UploadFile, *, limit: int) -> object:
    """The uploaded log as JSON, within its size (``limit``) and nesting bounds."""
    data = await read_bounded(upload, max_bytes=limit, source=SARIF_SOURCE)
    return load_json(data, max_bytes=limit, source=SARIF_SOURCE)


@router.post("/scans/sarif", status_code=status.HTTP_201_CREATED, tags=["scanners"])
async def import_sarif(
    request: Request,
    session: SessionDep,
    upload: Annotated[UploadFile, File(alias="file", description="A SARIF 2.1.0 log.")],
    service_name: Annotated[Text | None, Form(alias="service", max_length=100)] = None,
    principal: Principal = require(allowed(Permission.REPORTS_SUBMIT_INTERNAL)),
) -> ScanImportOut:
    """One report per distinct rule and location; findings already imported are skipped."""
    settings = _settings(request)
    ensure_upload_room(request)
    log = findings(await read_sarif(upload, limit=settings.max_sarif_bytes))
    created, known = await scans.import_log(
        session, principal=principal, log=log, service=service_name, settings=settings
    )
    await session.commit()
    return ScanImportOut(
        scanner_runs=log.runs,
        findings=len(log.findings),
        created=len(created),
        already_known=known,
        reports=[ReportSummary.model_validate(report) for report in created],
    )


@router.post("/cases", status_code=status.HTTP_201_CREATED, tags=["cases"])
async def open_case(
    request: Request,
    body: CaseIn,
    session: SessionDep,
    principal: Principal = require(allowed(Permission.CASES_MANAGE)),
) -> CaseOut:
    """Open a case, directly or from reports (the first of them starts its clock)."""
    case, _ = await service.open_case_from_reports(
        session,
        principal=principal,
        title=body.title,
        summary=body.summary,
        services=body.services,
        report_ids=body.report_ids,
        owner_id=body.owner_id,
        responder_id=body.responder_id,
        restricted=body.restricted,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    await session.commit()
    return CaseOut.model_validate(case)


@router.get("/cases/{case_id:int}/reports", tags=["cases"])
async def case_reports(
    case_id: Id,
    session: SessionDep,
    _: Principal = require(CASE_REPORTS),
) -> list[ReportSummary]:
    """The case's reports, oldest first."""
    await cases.get_case(session, case_id=case_id)
    reports = await service.reports_of_case(session, case_id=case_id)
    return [ReportSummary.model_validate(report) for report in reports]
