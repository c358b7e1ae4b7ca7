"""Demo tenants (the fleet issue adds services, regions and units)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.tenants import service

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

DEMO_TENANTS = (
    ("contoso", "Contoso Retail"),
    ("fabrikam", "Fabrikam Health"),
)


async def seed_tenants(session: AsyncSession, context: DemoContext) -> None:
    for key, name in DEMO_TENANTS:
        await service.create_tenant(session, key=key, name=name, actor="demo")
