"""Demo tenants (the fleet issue adds services, regions and units): Contoso reads French, on
Paris time; Fabrikam English, on UTC."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.tenants import preferences, service

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

DEMO_TENANTS = (
    ("contoso", "Contoso Retail", "fr", "Europe/Paris"),
    ("fabrikam", "Fabrikam Health", "en", "UTC"),
)


async def seed_tenants(session: AsyncSession, context: DemoContext) -> None:
    for key, name, language, zone in DEMO_TENANTS:
        tenant = await service.create_tenant(session, key=key, name=name, actor="demo")
        await preferences.set_preferences(
            session, tenant_id=tenant.id, language=language, time_zone_name=zone, actor="demo"
        )
