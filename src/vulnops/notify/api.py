"""JSON API of customer notification: the staff's advisory of a case and its deliveries; the
customer's advisories, acknowledgments, feedback and webhook endpoint."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from vulnops.approvals.deciding import decided
from vulnops.approvals.schemas import DecisionIn
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.errors import NotFound
from vulnops.notify import advisory_view, delivery_admin, portal, service, withdrawal
from vulnops.notify.schemas import (
    AdvisoryOut,
    DeliveryOut,
    DraftIn,
    FeedbackIn,
    PreferencesIn,
    TenantAdvisoryOut,
    VersionOut,
    WebhookIn,
    WithdrawIn,
)
from vulnops.settings import Settings
from vulnops.tenants import preferences
from vulnops.tenants import service as tenants

router = APIRouter(tags=["notification"])
READ = allowed(Permission.ADVISORIES_READ)
WRITE = allowed(Permission.ADVISORIES_WRITE)
APPROVE = allowed(Permission.ADVISORIES_APPROVE)
SEND = allowed(Permission.ADVISORIES_SEND)
RESEND = allowed(Permission.DELIVERIES_MANAGE)
CUSTOMER = allowed(Permission.TENANT_OWN)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def tenant_of(principal: Principal) -> int:
    if principal.tenant_id is None:
        raise NotFound("you administer no tenant")
    return principal.tenant_id


@router.get("/api/cases/{case_id:int}/advisory", dependencies=[require(READ)])
async def get_advisory(case_id: Id, session: SessionDep) -> AdvisoryOut:
    shown = await advisory_view.overview(session, case_id=case_id)
    if shown is None:
        raise NotFound(f"case {case_id} has no advisory yet")
    return AdvisoryOut.model_validate(shown)


@router.put("/api/cases/{case_id:int}/advisory")
async def save_draft(
    case_id: Id,
    body: DraftIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(WRITE),
) -> VersionOut:
    """Write the next version (or replace the unsent draft); it must be approved again."""
    version = await service.save_draft(
        session, case_id=case_id, draft=body, actor=principal.actor, settings=_settings(request)
    )
    await session.commit()
    return VersionOut.model_validate(version)


@router.post("/api/cases/{case_id:int}/advisory/approve")
async def approve(
    case_id: Id,
    request: Request,
    session: SessionDep,
    body: DecisionIn | None = None,
    principal: Principal = require(APPROVE),
) -> VersionOut:
    """Approve the latest draft: someone who did not write it (four eyes)."""
    version = await decided(
        session,
        service.decide,
        case_id=case_id,
        actor=principal.actor,
        approve=True,
        comment=body.comment if body else None,
        settings=_settings(request),
    )
    return VersionOut.model_validate(version)


@router.post("/api/cases/{case_id:int}/advisory/reject")
async def reject(
    case_id: Id,
    request: Request,
    session: SessionDep,
    body: DecisionIn,
    principal: Principal = require(APPROVE),
) -> VersionOut:
    """Send the latest draft back to its authors with a ``comment`` (it stays a draft)."""
    version = await decided(
        session,
        service.decide,
        case_id=case_id,
        actor=principal.actor,
        approve=False,
        comment=body.comment,
        settings=_settings(request),
    )
    return VersionOut.model_validate(version)


@router.post("/api/cases/{case_id:int}/advisory/send")
async def send(
    case_id: Id, request: Request, session: SessionDep, principal: Principal = require(SEND)
) -> dict[str, Any]:
    """Send the approved version to every affected tenant (portal, email, webhook); each in
    the approved translation in its language, if any (``languages``: how many tenants received
    each, ``""`` the original)."""
    result = await service.send(
        session,
        case_id=case_id,
        actor=principal.actor,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    await session.commit()
    return asdict(result)


@router.post("/api/cases/{case_id:int}/advisory/withdraw")
async def withdraw(
    case_id: Id, body: WithdrawIn, session: SessionDep, principal: Principal = require(SEND)
) -> dict[str, Any]:
    """Withdraw the sent advisory (sent in error): its tenants keep it, marked withdrawn with
    the ``reason``; what is not delivered yet is cancelled, no reminder follows, and its
    conversations close."""
    advisory, cancelled = await withdrawal.withdraw(
        session, case_id=case_id, reason=body.reason, actor=principal.actor, now=datetime.now(UTC)
    )
    await session.commit()
    return {"withdrawn": advisory_view.withdrawn_of(advisory), "cancelled": cancelled}


@router.get("/api/cases/{case_id:int}/advisory/preview", dependencies=[require(READ)])
async def preview(
    case_id: Id,
    request: Request,
    session: SessionDep,
    tenant: Annotated[Text, Query(min_length=1, max_length=100)],
) -> dict[str, str | None]:
    """The latest version as this tenant would read it: in the translation it would get (a
    draft one included, before the send), ``language`` says which (null: the original)."""
    shown = await advisory_view.preview(
        session,
        case_id=case_id,
        tenant_key=tenant,
        now=datetime.now(UTC),
        settings=_settings(request),
    )
    return {"tenant": tenant, "text": shown.text, "language": shown.language}


@router.get("/api/cases/{case_id:int}/advisory/feedback", dependencies=[require(READ)])
async def feedback(
    case_id: Id,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> PageOut[dict[str, Any]]:
    advisory = await service.find(session, case_id=case_id)
    if advisory is None:
        raise NotFound(f"case {case_id} has no advisory yet")
    found = await portal.feedback_of(session, advisory_id=advisory.id, page=page, per_page=per_page)
    return PageOut[dict[str, Any]].of(found, dict)


@router.get("/api/deliveries")
async def list_deliveries(
    session: SessionDep,
    status: Annotated[Text | None, Query(max_length=16)] = None,
    advisory_id: Id | None = None,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[DeliveryOut]:
    found = await delivery_admin.list_deliveries(
        session,
        viewer=principal,
        status=status,
        advisory_id=advisory_id,
        page=page,
        per_page=per_page,
    )
    return PageOut[DeliveryOut].of(found, DeliveryOut.model_validate)


@router.get("/api/deliveries/{delivery_id:int}/events", dependencies=[require(READ)])
async def delivery_events(delivery_id: Id, session: SessionDep) -> list[dict[str, Any]]:
    return await delivery_admin.events(session, delivery_id=delivery_id)


@router.post("/api/deliveries/{delivery_id:int}/resend")
async def resend(
    delivery_id: Id, session: SessionDep, principal: Principal = require(RESEND)
) -> dict[str, int]:
    resent = await delivery_admin.resend(session, actor=principal.actor, delivery_id=delivery_id)
    await session.commit()
    return {"resent": resent}


@router.get("/api/advisories")
async def my_advisories(
    session: SessionDep,
    unacknowledged: bool = False,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(CUSTOMER),
) -> PageOut[dict[str, Any]]:
    """Your tenant's advisories, newest first; ``unacknowledged``: only those nobody of your
    tenant acknowledged yet (at their latest version)."""
    found = await portal.tenant_advisories(
        session,
        tenant_id=tenant_of(principal),
        unacknowledged=unacknowledged,
        page=page,
        per_page=per_page,
    )
    return PageOut[dict[str, Any]].of(found, dict)


@router.get("/api/advisories/{advisory_id:int}")
async def my_advisory(
    advisory_id: Id,
    request: Request,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> TenantAdvisoryOut:
    shown = await portal.tenant_advisory(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_of(principal),
        now=datetime.now(UTC),
        settings=_settings(request),
    )
    return TenantAdvisoryOut.model_validate(shown)


@router.post("/api/advisories/{advisory_id:int}/acknowledge")
async def acknowledge(
    advisory_id: Id, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> dict[str, int]:
    number = await portal.acknowledge(
        session, advisory_id=advisory_id, tenant_id=tenant_of(principal), actor=principal.actor
    )
    await session.commit()
    return {"acknowledged_version": number}


@router.post("/api/advisories/{advisory_id:int}/feedback")
async def give_feedback(
    advisory_id: Id,
    body: FeedbackIn,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> dict[str, bool]:
    await portal.give_feedback(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_of(principal),
        rating=body.rating,
        comment=body.comment,
        actor=principal.actor,
    )
    await session.commit()
    return {"saved": True}


async def _webhook(session: SessionDep, tenant_id: int) -> dict[str, str]:
    tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
    urls = [
        c.address
        for c in await tenants.contacts(session, tenant_id=tenant_id)
        if c.channel == "webhook"
    ]
    return {"url": urls[0] if urls else "", "secret": tenant.webhook_secret}


@router.get("/api/tenant/webhook")
async def my_webhook(
    session: SessionDep, principal: Principal = require(CUSTOMER)
) -> dict[str, str]:
    """Your webhook endpoint and the secret its messages are signed with."""
    return await _webhook(session, tenant_of(principal))


@router.put("/api/tenant/webhook")
async def set_webhook(
    body: WebhookIn, request: Request, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> dict[str, str]:
    tenant_id = tenant_of(principal)
    await tenants.set_webhook(
        session,
        tenant_id=tenant_id,
        url=body.url,
        allow_private=_settings(request).notify_webhook_allow_private,
        actor=principal.actor,
    )
    await session.commit()
    return await _webhook(session, tenant_id)


@router.post("/api/tenant/webhook/rotate-secret")
async def rotate_secret(
    session: SessionDep, principal: Principal = require(CUSTOMER)
) -> dict[str, str]:
    tenant_id = tenant_of(principal)
    await tenants.rotate_webhook_secret(session, tenant_id=tenant_id, actor=principal.actor)
    await session.commit()
    return await _webhook(session, tenant_id)


@router.get("/api/tenant/preferences")
async def my_preferences(
    session: SessionDep, principal: Principal = require(CUSTOMER)
) -> dict[str, str]:
    """Your organisation's language (BCP 47) and time zone."""
    tenant = await tenants.get_tenant(session, tenant_id=tenant_of(principal))
    return {"language": tenant.language, "time_zone": tenant.time_zone}


@router.put("/api/tenant/preferences")
async def set_preferences(
    body: PreferencesIn, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> dict[str, str]:
    """Set both; a tag that is not BCP 47, or an unknown time zone, is a 422 and nothing is
    written."""
    tenant = await preferences.set_preferences(
        session,
        tenant_id=tenant_of(principal),
        language=body.language,
        time_zone_name=body.time_zone,
        actor=principal.actor,
    )
    await session.commit()
    return {"language": tenant.language, "time_zone": tenant.time_zone}
