"""The customer's portal pages: their tenant's advisories (read, acknowledge, rate, ask) and
their webhook settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops import i18n
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError
from vulnops.notify import conversation, portal, resource_marks
from vulnops.notify.api import CUSTOMER, tenant_of
from vulnops.settings import Settings
from vulnops.tenants import preferences
from vulnops.tenants import service as tenants
from vulnops.ui.forms import form_action
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/advisories", response_class=HTMLResponse)
async def my_advisories(
    request: Request,
    session: SessionDep,
    unacknowledged: bool = False,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    principal: Principal = require(CUSTOMER),
) -> HTMLResponse:
    tenant_id = tenant_of(principal)
    found = await portal.tenant_advisories(
        session, tenant_id=tenant_id, unacknowledged=unacknowledged, page=page
    )
    tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
    return render(
        request,
        "notify/portal_list.html",
        {
            "page": found,
            "tenant": tenant,
            "unacknowledged": unacknowledged,
            "page_url": lambda number: (
                f"/advisories?page={number}{'&unacknowledged=1' if unacknowledged else ''}"
            ),
        },
        language=tenant.language,
    )


@router.get("/advisories/{advisory_id:int}", response_class=HTMLResponse)
async def my_advisory(
    request: Request,
    advisory_id: Id,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> HTMLResponse:
    tenant_id = tenant_of(principal)
    shown = await portal.tenant_advisory(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_id,
        now=datetime.now(UTC),
        settings=_settings(request),
    )
    messages = await conversation.tenant_thread(
        session, advisory_id=advisory_id, tenant_id=tenant_id
    )
    resources = await resource_marks.tenant_resources(
        session, advisory_id=advisory_id, tenant_id=tenant_id
    )
    return render(
        request,
        "notify/portal_detail.html",
        {
            "advisory": shown,
            "messages": messages,
            "resources": resources,
            "limit": conversation.MESSAGE_CHARS,
        },
        language=shown["tenant"]["language"],
    )


@router.post("/advisories/{advisory_id:int}/acknowledge")
async def acknowledge(
    request: Request,
    advisory_id: Id,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> Response:
    tenant_id = tenant_of(principal)
    number = await portal.acknowledge(
        session, advisory_id=advisory_id, tenant_id=tenant_id, actor=principal.actor
    )
    await session.commit()
    with i18n.speaking(await portal.tenant_language(session, tenant_id=tenant_id)):
        said = i18n.gettext("Acknowledged (version %(number)s). Thank you.") % {"number": number}
    flash(request, said, "success")
    return redirect(f"/advisories/{advisory_id}")


@router.post("/advisories/{advisory_id:int}/feedback")
async def feedback(
    request: Request,
    advisory_id: Id,
    session: SessionDep,
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[Text, Form(max_length=5000)] = "",
    principal: Principal = require(CUSTOMER),
) -> Response:
    tenant_id = tenant_of(principal)
    await portal.give_feedback(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_id,
        rating=rating,
        comment=comment.strip(),
        actor=principal.actor,
    )
    await session.commit()
    with i18n.speaking(await portal.tenant_language(session, tenant_id=tenant_id)):
        flash(request, i18n.gettext("Thank you for your feedback."), "success")
    return redirect(f"/advisories/{advisory_id}")


@router.get("/advisories/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> HTMLResponse:
    tenant_id = tenant_of(principal)
    tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
    contacts = await tenants.contacts(session, tenant_id=tenant_id)
    return render(
        request,
        "notify/settings.html",
        {
            "tenant": tenant,
            "emails": [c.address for c in contacts if c.channel == "email"],
            "webhook": next((c.address for c in contacts if c.channel == "webhook"), ""),
        },
        language=tenant.language,
    )


@router.post("/advisories/settings/webhook")
async def set_webhook(
    request: Request,
    session: SessionDep,
    url: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(CUSTOMER),
) -> Response:
    tenant_id = tenant_of(principal)
    try:
        await tenants.set_webhook(
            session,
            tenant_id=tenant_id,
            url=url,
            allow_private=_settings(request).notify_webhook_allow_private,
            actor=principal.actor,
        )
    except DomainError as problem:
        flash(request, problem.detail, "error")
    else:
        await session.commit()
        with i18n.speaking(await portal.tenant_language(session, tenant_id=tenant_id)):
            said = (
                i18n.gettext("Webhook endpoint saved.")
                if url.strip()
                else i18n.gettext("Webhook removed.")
            )
        flash(request, said, "success")
    return redirect("/advisories/settings")


@router.post("/advisories/settings/rotate-secret")
async def rotate_secret(
    request: Request, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> Response:
    tenant_id = tenant_of(principal)
    await tenants.rotate_webhook_secret(session, tenant_id=tenant_id, actor=principal.actor)
    await session.commit()
    with i18n.speaking(await portal.tenant_language(session, tenant_id=tenant_id)):
        said = i18n.gettext("New signing secret made; the old one no longer signs messages.")
    flash(request, said, "success")
    return redirect("/advisories/settings")


@router.post("/advisories/settings/preferences")
async def set_preferences(
    request: Request,
    session: SessionDep,
    language: Annotated[Text, Form(max_length=35)] = "",
    time_zone: Annotated[Text, Form(max_length=64)] = "",
    principal: Principal = require(CUSTOMER),
) -> Response:
    async def work() -> None:
        await preferences.set_preferences(
            session,
            tenant_id=tenant_of(principal),
            language=language,
            time_zone_name=time_zone,
            actor=principal.actor,
        )

    def done(_: None) -> str:
        # In the language just chosen: the form's answer is the first thing said in it.
        with i18n.speaking(language):
            return i18n.gettext("Language and time zone saved.")

    return await form_action(request, session, work, done=done, back="/advisories/settings")
