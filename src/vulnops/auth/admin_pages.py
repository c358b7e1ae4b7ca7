"""User administration pages: list, search, create, disable and enable accounts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vulnops.auth import service
from vulnops.auth.deps import require
from vulnops.auth.pages import valid_email
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, Role, allowed
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import DomainError
from vulnops.tenants import service as tenants
from vulnops.ui.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
MANAGE_USERS = allowed(Permission.USERS_MANAGE)


async def _users_page(
    request: Request,
    session: SessionDep,
    *,
    q: str = "",
    role: str = "",
    page: int = 1,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    role_filter = Role(role) if role in Role.__members__.values() else None
    users = await service.list_users(session, role=role_filter, search=q or None, page=page)
    tenant_names = await tenants.tenant_names(
        session, tenant_ids={user.tenant_id for user in users.items if user.tenant_id}
    )

    def page_url(number: int) -> str:
        return "/admin/users?" + urlencode({"q": q, "role": role, "page": number})

    return render(
        request,
        "users.html",
        {
            "page": users,
            "q": q,
            "role": role,
            "roles": list(Role),
            "tenants": tenant_names,
            "page_url": page_url,
            "error": error,
            "warnings": request.app.state.settings.deployment_warnings(),
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse, dependencies=[require(MANAGE_USERS)])
async def users_page(
    request: Request,
    session: SessionDep,
    q: Annotated[Text, Query(max_length=200)] = "",
    role: Text = "",
    page: Annotated[PageNumber, Query(ge=1)] = 1,
) -> HTMLResponse:
    return await _users_page(request, session, q=q, role=role, page=page)


@router.post("/admin/users", response_model=None)
async def create_user(
    request: Request,
    session: SessionDep,
    email: Annotated[Text, Form(max_length=320)],
    password: Annotated[Text, Form(max_length=1024)],
    role: Annotated[Role, Form()],
    display_name: Annotated[Text, Form(max_length=200)] = "",
    tenant_key: Annotated[Text, Form(max_length=100)] = "",
    principal: Principal = require(MANAGE_USERS),
) -> Response:
    try:
        user = await service.create_user(
            session,
            email=valid_email(email),
            password=password,
            role=role,
            display_name=display_name,
            tenant_key=tenant_key or None,
            actor=principal.actor,
        )
    except DomainError as error:
        await session.rollback()
        return await _users_page(request, session, error=error.detail, status_code=error.status)
    await session.commit()
    flash(request, f"User {user.email} added as {role.value}.", "success")
    return redirect("/admin/users")


async def _set_disabled(
    request: Request, session: SessionDep, principal: Principal, user_id: int, disabled: bool
) -> Response:
    user = await service.update_user(session, user_id=user_id, actor=principal, disabled=disabled)
    await session.commit()
    flash(request, f"{user.email} {'disabled' if disabled else 'enabled'}.", "success")
    return redirect("/admin/users")


@router.post("/admin/users/{user_id}/disable")
async def disable_user(
    request: Request,
    user_id: Id,
    session: SessionDep,
    principal: Principal = require(MANAGE_USERS),
) -> Response:
    return await _set_disabled(request, session, principal, user_id, True)


@router.post("/admin/users/{user_id}/enable")
async def enable_user(
    request: Request,
    user_id: Id,
    session: SessionDep,
    principal: Principal = require(MANAGE_USERS),
) -> Response:
    return await _set_disabled(request, session, principal, user_id, False)
