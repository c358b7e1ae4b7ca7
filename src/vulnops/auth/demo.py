"""Demo accounts: an administrator and one user per role, with generated passwords."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service
from vulnops.auth.roles import Role

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

DEMO_USERS = (
    (Role.ADMIN, "admin@vulnops.example", "Avery Admin", None),
    (Role.RESPONDER, "responder@vulnops.example", "Riley Responder", None),
    (Role.ENGINEER, "engineer@vulnops.example", "Emery Engineer", None),
    (Role.RELEASE_MANAGER, "release@vulnops.example", "Rowan Release", None),
    (Role.COMMUNICATIONS, "comms@vulnops.example", "Casey Comms", None),
    (Role.RESEARCHER, "researcher@vulnops.example", "Robin Researcher", None),
    (Role.CUSTOMER, "admin@contoso.example", "Cameron (Contoso)", "contoso"),
)


async def seed_accounts(session: AsyncSession, context: DemoContext) -> None:
    for role, email, name, tenant_key in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        await service.create_user(
            session,
            email=email,
            password=password,
            role=role,
            display_name=name,
            tenant_key=tenant_key,
            actor="demo",
        )
        context.login(role.value, email, password)
