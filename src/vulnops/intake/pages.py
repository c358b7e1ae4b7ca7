"""HTML pages: the researcher portal, the triage queue, a report with its thread, scan imports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError

from vulnops import panels
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.cases import service as cases
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.diskspace import ensure_upload_room
from vulnops.errors import DomainError, Invalid, RateLimited
from vulnops.intake import attachments as files
from vulnops.intake import duplicates, listing, messages, scans, service
from vulnops.intake.api import SUBMIT, TRIAGE, VIEW, download, read_sarif
from vulnops.intake.sarif import findings
from vulnops.intake.schemas import ReportIn
from vulnops.intake.states import CloseReason, ReportState, Source
from vulnops.settings import Settings
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
OPTIONAL = frozenset({"service", "endpoint", "contact", "credit_name", "exercise"})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _validation_message(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
    )


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    session: SessionDep,
    state: Text = "",
    source: Text = "",
    service_name: Annotated[Text, Query(alias="service", max_length=100)] = "",
    waiting: bool = False,
    asked: bool = False,
    q: Annotated[Text, Query(max_length=200)] = "",
    sort: Text = "received",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(VIEW),
) -> HTMLResponse:
    """``waiting``: the reports whose reporter wrote last (the team owes an answer);
    ``asked``: those where the team asked for more and the reporter has not answered."""
    reports = await listing.list_reports(
        session,
        principal=principal,
        state=ReportState(state) if state in set(ReportState) else None,
        source=Source(source) if source in set(Source) else None,
        service=service_name or None,
        awaiting_team=waiting,
        awaiting_reporter=asked,
        search=q or None,
        sort=sort if sort in listing.SORTS else "received",
        page=page,
    )
    filters = {
        "state": state,
        "source": source,
        "service": service_name,
        "q": q,
        "sort": sort,
        "waiting": "1" if waiting else "",
        "asked": "1" if asked else "",
    }

    def page_url(number: int) -> str:
        return "/reports?" + urlencode({**filters, "page": number})

    return render(
        request,
        "reports/list.html",
        {
            "page": reports,
            "filters": filters,
            "states": list(ReportState),
            "sources": list(Source),
            "page_url": page_url,
            "staff_view": service.can_see_all(principal),
            "waiting_of": listing.waiting_of,
        },
    )


def _form_context(
    principal: Principal, values: dict[str, str], error: str | None
) -> dict[str, object]:
    return {
        "values": values,
        "error": error,
        "internal": not principal.can(Permission.REPORTS_SUBMIT),
    }


@router.get("/reports/new", response_class=HTMLResponse)
async def new_report_form(request: Request, principal: Principal = require(SUBMIT)) -> HTMLResponse:
    return render(request, "reports/new.html", _form_context(principal, {}, None))


@router.post("/reports/new", response_model=None)
async def submit_report(
    request: Request,
    session: SessionDep,
    title: Annotated[Text, Form()] = "",
    description: Annotated[Text, Form()] = "",
    service_name: Annotated[Text, Form(alias="service")] = "",
    endpoint: Annotated[Text, Form()] = "",
    reproduction: Annotated[Text, Form()] = "",
    impact: Annotated[Text, Form()] = "",
    credit_name: Annotated[Text, Form()] = "",
    contact: Annotated[Text, Form()] = "",
    exercise: Annotated[Text, Form()] = "",
    upload: Annotated[list[UploadFile] | None, File(alias="files")] = None,
    principal: Principal = require(SUBMIT),
) -> Response:
    settings = _settings(request)
    values = {
        "title": title,
        "description": description,
        "service": service_name,
        "endpoint": endpoint,
        "reproduction": reproduction,
        "impact": impact,
        "credit_name": credit_name,
        "contact": contact,
        "exercise": exercise,
    }
    stored: list[files.StoredFile] = []
    try:
        data = ReportIn.model_validate(
            {key: (value or None) if key in OPTIONAL else value for key, value in values.items()}
        )
        if any(item.filename for item in upload or []):
            ensure_upload_room(request)
        stored = await files.store_all(
            upload or [], directory=settings.attachments_dir, limit=settings.max_attachment_bytes
        )
        report = await service.submit(
            session, principal=principal, data=data, settings=settings, files=stored
        )
        await session.commit()
    except ValidationError as error:
        files.discard(settings.attachments_dir, stored)
        return render(
            request,
            "reports/new.html",
            _form_context(principal, values, _validation_message(error)),
            status_code=422,
        )
    except DomainError as error:
        files.discard(settings.attachments_dir, stored)
        refused = render(
            request,
            "reports/new.html",
            _form_context(principal, values, error.detail),
            status_code=error.status,
        )
        if isinstance(error, RateLimited):
            refused.headers["Retry-After"] = str(error.retry_after)
        return refused
    flash(
        request,
        f"Thank you — your report is received and tracked as {report.tracking_id}.",
        "success",
    )
    return redirect(f"/reports/{report.id}")


@router.get("/reports/{report_id:int}", response_class=HTMLResponse)
async def report_page(
    request: Request, report_id: Id, session: SessionDep, principal: Principal = require(VIEW)
) -> HTMLResponse:
    report = await service.visible_report(session, principal=principal, report_id=report_id)
    triage = principal.can(Permission.REPORTS_TRIAGE)
    case = await cases.get_case(session, case_id=report.case_id) if report.case_id else None
    return render(
        request,
        "reports/detail.html",
        {
            "panels": await panels.gather(
                "report", session=session, report=report, principal=principal
            ),
            "report": report,
            "case": case,
            "attachments": await service.attachments(session, report_id=report.id),
            "history": await messages.history(session, report=report),
            "thread": await messages.thread(session, principal=principal, report_id=report.id),
            "triage": triage,
            "is_reporter": report.reporter_id == principal.user_id,
            "candidates": (
                await duplicates.candidates(session, report=report, viewer=principal)
                if triage
                else []
            ),
            "close_reasons": list(CloseReason),
            "can_open_case": principal.can(Permission.CASES_MANAGE),
        },
    )


@router.get("/reports/{report_id:int}/attachments/{attachment_id}")
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


@router.post("/reports/{report_id:int}/attachments")
async def add_attachments(
    request: Request,
    report_id: Id,
    session: SessionDep,
    upload: Annotated[list[UploadFile], File(alias="files")],
    principal: Principal = require(VIEW),
) -> Response:
    settings = _settings(request)
    await service.visible_report(session, principal=principal, report_id=report_id)
    ensure_upload_room(request)
    stored: list[files.StoredFile] = []
    try:
        stored = await files.store_all(
            upload, directory=settings.attachments_dir, limit=settings.max_attachment_bytes
        )
        if not stored:
            raise Invalid("choose at least one file")
        await service.add_attachments(
            session, principal=principal, report_id=report_id, files=stored, settings=settings
        )
        await session.commit()
    except BaseException:
        files.discard(settings.attachments_dir, stored)
        raise
    flash(request, f"{len(stored)} file(s) attached.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/reports/{report_id:int}/messages")
async def post_message(
    request: Request,
    report_id: Id,
    session: SessionDep,
    body: Annotated[Text, Form(min_length=1, max_length=50_000)],
    principal: Principal = require(VIEW),
) -> Response:
    await messages.post(
        session, principal=principal, report_id=report_id, body=body, settings=_settings(request)
    )
    await session.commit()
    flash(request, "Message sent.", "success")
    return redirect(f"/reports/{report_id}#thread")


@router.post("/reports/{report_id:int}/transition")
async def transition_report(
    request: Request,
    report_id: Id,
    session: SessionDep,
    state: Annotated[ReportState, Form()],
    close_reason: Annotated[Text, Form()] = "",
    resolution: Annotated[Text, Form(max_length=20_000)] = "",
    principal: Principal = require(TRIAGE),
) -> Response:
    if close_reason and close_reason not in set(CloseReason):
        raise Invalid(f"close_reason: {close_reason!r} is not a close reason")
    report = await service.transition(
        session,
        principal=principal,
        report_id=report_id,
        target=state,
        close_reason=CloseReason(close_reason) if close_reason else None,
        resolution=resolution or None,
        settings=_settings(request),
    )
    await session.commit()
    flash(request, f"{report.tracking_id} is now {report.state.replace('_', ' ')}.", "success")
    return redirect(f"/reports/{report_id}")


@router.post("/reports/{report_id:int}/merge")
async def merge_report(
    request: Request,
    report_id: Id,
    session: SessionDep,
    case: Annotated[Text, Form(min_length=1, max_length=32, description="Tracking id or id")],
    principal: Principal = require(TRIAGE),
) -> Response:
    target = (
        await cases.get_case(session, case_id=int(case))
        if case.strip().isdigit()
        else await cases.get_case_by_tracking_id(session, tracking_id=case.strip())
    )
    report = await service.merge_into_case(
        session,
        principal=principal,
        report_id=report_id,
        case_id=target.id,
        settings=_settings(request),
    )
    await session.commit()
    flash(request, f"{report.tracking_id} merged into {target.tracking_id}.", "success")
    return redirect(f"/reports/{report_id}")


@router.get("/scans/import", response_class=HTMLResponse)
async def scan_form(
    request: Request,
    _: Principal = require(allowed(Permission.REPORTS_SUBMIT_INTERNAL)),
) -> HTMLResponse:
    return render(request, "reports/scan.html", {"result": None, "error": None})


@router.post("/scans/import", response_class=HTMLResponse)
async def import_scan(
    request: Request,
    session: SessionDep,
    upload: Annotated[UploadFile, File(alias="file")],
    service_name: Annotated[Text, Form(alias="service", max_length=100)] = "",
    principal: Principal = require(allowed(Permission.REPORTS_SUBMIT_INTERNAL)),
) -> HTMLResponse:
    settings = _settings(request)
    try:
        ensure_upload_room(request)
        log = findings(await read_sarif(upload, limit=settings.max_sarif_bytes))
        created, known = await scans.import_log(
            session,
            principal=principal,
            log=log,
            service=service_name or None,
            settings=settings,
        )
        await session.commit()
    except DomainError as error:
        return render(
            request,
            "reports/scan.html",
            {"result": None, "error": error.detail, "problems": error.extra.get("errors", [])},
            status_code=error.status,
        )
    return render(
        request,
        "reports/scan.html",
        {
            "result": {"log": log, "created": created, "known": known},
            "error": None,
            "at": datetime.now(UTC),
        },
        status_code=201,
    )
