"""Who is calling, and may they: the dependency every route declares through :func:`require`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vulnops.auth import service, sessions
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Rule
from vulnops.db.deps import SessionDep
from vulnops.errors import Forbidden, NotFound, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An API token from `vulnops token create`.")


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller: a bearer token when one is sent (a bad one is a 401), else the session."""
    principal: Principal | None = None
    if "authorization" in request.headers:
        if credentials is None or not credentials.credentials.strip():
            raise Unauthenticated("send the API token as `Authorization: Bearer <token>`")
        token_user, touched = await service.user_for_token(
            session, secret=credentials.credentials.strip(), now=datetime.now(UTC)
        )
        if touched:
            await session.commit()
        principal = service.principal_of(token_user, via="token")
    elif "sid" in request.session:
        user, touched = await sessions.user_of(
            session, secret=str(request.session["sid"]), now=datetime.now(UTC)
        )
        if touched:
            await session.commit()
        if user is None:
            request.session.clear()
        else:
            principal = service.principal_of(user, via="session")
    request.state.principal = principal
    return principal


class RuleCheck:
    """A route's permission rule; found by :func:`route_rule` when routes are walked."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    async def __call__(
        self, principal: Annotated[Principal | None, Depends(get_principal)]
    ) -> Principal | None:
        rule = self.rule
        if not rule.authenticated:
            return principal
        if principal is None:
            raise Unauthenticated("sign in first")
        if not rule.allows(principal.role):
            if rule.hide:
                raise NotFound("not found")
            raise Forbidden(
                f"the {principal.role.value} role does not have the {rule.describe()} permission",
                denied_by="route",
            )
        return principal


def require(rule: Rule) -> Any:
    """``principal: Principal = require(allowed(Permission.X))`` in a route's signature."""
    return Depends(RuleCheck(rule))


def route_rule(route: APIRoute) -> Rule | None:
    """The rule a route declares, wherever it sits among the route's dependencies."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, RuleCheck):
            return dependant.call.rule
        pending.extend(dependant.dependencies)
    return None
