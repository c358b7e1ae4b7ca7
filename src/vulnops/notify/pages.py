"""Notification pages: the advisory editor of a case, the deliveries (dead ones resent from
here), and the customer's portal — advisories, acknowledgment, feedback, webhook settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.cases import service as cases
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError
from vulnops.fleet import blast
from vulnops.notify import (
    advisory_view,
    conversation,
    delivery_admin,
    portal,
    resource_marks,
    service,
    withdrawal,
)
from vulnops.notify.api import APPROVE, READ, RESEND, SEND, WRITE
from vulnops.notify.rendering import DEFAULT_BODY, TLP
from vulnops.notify.schemas import DraftIn
from vulnops.settings import Settings
from vulnops.ui.forms import form_action
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
STATUSES = ("pending", "retrying", "delivered", "dead", "undeliverable")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _editor(
    request: Request,
    session: SessionDep,
    case_id: int,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    preview_tenant: str = "",
    translate: str = "",
) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    shown = await advisory_view.overview(session, case_id=case_id)
    latest = shown["versions"][-1] if shown else None
    if values is None:
        values = (
            dict(latest)
            if latest
            else {
                "title": case.title,
                "summary": case.summary or "",
                "exposed_since": case.opened_at,
                "action_required": case.customer_action_required,
                "action_steps": "",
                "body": DEFAULT_BODY,
            }
        )
    preview = preview_error = None
    radius = await blast.find(session, case_id=case_id)
    if latest and preview_tenant:
        try:
            preview = await advisory_view.preview(
                session,
                case_id=case_id,
                tenant_key=preview_tenant,
                now=datetime.now(UTC),
                settings=_settings(request),
            )
        except DomainError as problem:
            preview_error = problem.detail
    affected = (
        (await blast.affected_tenants(session, case_id=case_id, per_page=20)).items
        if radius
        else []
    )
    feedback = (
        (await portal.feedback_of(session, advisory_id=shown["id"], per_page=20)).items
        if shown
        else []
    )
    conversations = (
        await conversation.conversations(
            session, advisory_id=shown["id"], now=datetime.now(UTC), per_page=20
        )
        if shown
        else None
    )
    progress = (
        await resource_marks.progress(session, advisory_id=shown["id"], per_page=20)
        if shown
        else None
    )
    return render(
        request,
        "notify/editor.html",
        {
            "case": case,
            "tab": "advisory",  # the advisory tab of the case page
            "now": datetime.now(UTC),
            "advisory": shown,
            "latest": latest,
            "values": values,
            "error": error,
            "radius": radius,
            "affected": affected,
            "preview": preview,
            "preview_error": preview_error,
            "preview_tenant": preview_tenant,
            "feedback": feedback,
            "conversations": conversations,
            "progress": progress,
            "totals": advisory_view.totals,
            "tlp": TLP,
            "translating": _translating(latest, translate),
        },
        status_code=422 if error else 200,
    )


def _translating(latest: dict[str, Any] | None, language: str) -> dict[str, Any]:
    """What the translation form starts from: the translation being edited, else the
    original's words (to translate)."""
    if latest is None:
        return {}
    chosen = next((t for t in latest["translations"] if t["language"] == language), None)
    source = chosen or latest
    return {
        "language": language if chosen else "",
        **{field: source[field] for field in ("title", "summary", "action_steps", "body")},
    }


@router.get(
    "/cases/{case_id:int}/advisory", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def editor(
    request: Request,
    case_id: Id,
    session: SessionDep,
    preview: Annotated[Text, Query(max_length=100)] = "",
    translate: Annotated[Text, Query(max_length=35)] = "",
) -> HTMLResponse:
    return await _editor(request, session, case_id, preview_tenant=preview, translate=translate)


@router.post("/cases/{case_id:int}/advisory", response_model=None)
async def save(
    request: Request,
    case_id: Id,
    session: SessionDep,
    title: Annotated[Text, Form(max_length=300)] = "",
    summary: Annotated[Text, Form(max_length=20_000)] = "",
    exposed_since: Annotated[Text, Form(max_length=40)] = "",
    action_required: Annotated[bool, Form()] = False,
    action_steps: Annotated[Text, Form(max_length=20_000)] = "",
    body: Annotated[Text, Form(max_length=100_000)] = "",
    principal: Principal = require(WRITE),
) -> Response:
    values: dict[str, Any] = {
        "title": title,
        "summary": summary,
        "exposed_since": exposed_since,
        "action_required": action_required,
        "action_steps": action_steps,
        "body": body,
    }
    try:
        draft = DraftIn.model_validate(
            {**values, "exposed_since": exposed_since.strip() and _utc(exposed_since)}
        )
        await service.save_draft(
            session,
            case_id=case_id,
            draft=draft,
            actor=principal.actor,
            settings=_settings(request),
        )
    except ValidationError as problem:
        first = problem.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return await _editor(
            request, session, case_id, values=values, error=f"{field}: {first['msg']}"
        )
    except DomainError as problem:
        await session.rollback()
        return await _editor(request, session, case_id, values=values, error=problem.detail)
    await session.commit()
    flash(
        request,
        "Draft saved. A communications approver must approve it before it is sent.",
        "success",
    )
    return redirect(f"/cases/{case_id}/advisory")


def _utc(value: str) -> datetime:
    """A ``datetime-local`` field's value, read as UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _decide(
    request: Request, session: SessionDep, case_id: int, actor: str, *, approve: bool, comment: str
) -> Response:
    async def work() -> int:
        version = await service.decide(
            session,
            case_id=case_id,
            actor=actor,
            approve=approve,
            comment=comment,
            settings=_settings(request),
            now=datetime.now(UTC),
        )
        return version.number

    done = "approved" if approve else "sent back to its authors"
    return await form_action(
        request,
        session,
        work,
        done=lambda number: f"Version {number} {done}.",
        back=f"/cases/{case_id}/advisory",
    )


@router.post("/cases/{case_id:int}/advisory/approve")
async def approve(
    request: Request,
    case_id: Id,
    session: SessionDep,
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(APPROVE),
) -> Response:
    return await _decide(request, session, case_id, principal.actor, approve=True, comment=comment)


@router.post("/cases/{case_id:int}/advisory/reject")
async def reject(
    request: Request,
    case_id: Id,
    session: SessionDep,
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(APPROVE),
) -> Response:
    return await _decide(request, session, case_id, principal.actor, approve=False, comment=comment)


@router.post("/cases/{case_id:int}/advisory/send")
async def send(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(SEND)
) -> Response:
    try:
        result = await service.send(
            session,
            case_id=case_id,
            actor=principal.actor,
            settings=_settings(request),
            now=datetime.now(UTC),
        )
    except DomainError as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
    else:
        await session.commit()
        flash(
            request,
            f"Version {result.version} sent to {result.recipients:,} tenants "
            f"({result.deliveries:,} deliveries; {result.in_languages()}).",
            "success",
        )
    return redirect(f"/cases/{case_id}/advisory")


@router.post("/cases/{case_id:int}/advisory/withdraw")
async def withdraw(
    request: Request,
    case_id: Id,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(SEND),
) -> Response:
    async def work() -> int:
        _, cancelled = await withdrawal.withdraw(
            session, case_id=case_id, reason=reason, actor=principal.actor, now=datetime.now(UTC)
        )
        return cancelled

    return await form_action(
        request,
        session,
        work,
        done=lambda cancelled: (
            f"Advisory withdrawn; {cancelled:,} messages not yet delivered were cancelled."
        ),
        back=f"/cases/{case_id}/advisory",
    )


@router.get("/notifications/deliveries", response_class=HTMLResponse)
async def deliveries_page(
    request: Request,
    session: SessionDep,
    status: Annotated[Text, Query(max_length=16)] = "dead",
    advisory: Annotated[Id | None, Query()] = None,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    found = await delivery_admin.list_deliveries(
        session, viewer=principal, status=status or None, advisory_id=advisory, page=page
    )
    suffix = f"&advisory={advisory}" if advisory else ""
    return render(
        request,
        "notify/deliveries.html",
        {
            "page": found,
            "status": status,
            "statuses": STATUSES,
            "advisory": advisory,
            "page_url": lambda number: (
                f"/notifications/deliveries?status={status}{suffix}&page={number}"
            ),
        },
    )


@router.post("/notifications/deliveries/{delivery_id:int}/resend")
async def resend(
    request: Request, delivery_id: Id, session: SessionDep, principal: Principal = require(RESEND)
) -> Response:
    try:
        await delivery_admin.resend(session, actor=principal.actor, delivery_id=delivery_id)
    except DomainError as problem:
        flash(request, problem.detail, "error")
    else:
        await session.commit()
        flash(request, f"Delivery {delivery_id} queued again.", "success")
    return redirect(request.headers.get("referer") or "/notifications/deliveries")


@router.post("/notifications/advisories/{advisory_id:int}/resend-dead")
async def resend_dead(
    request: Request, advisory_id: Id, session: SessionDep, principal: Principal = require(RESEND)
) -> Response:
    resent = await delivery_admin.resend(session, actor=principal.actor, advisory_id=advisory_id)
    await session.commit()
    flash(request, f"{resent:,} dead deliveries queued again.", "success")
    return redirect(request.headers.get("referer") or "/notifications/deliveries")
