from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.db.writes import add_unique
from vulnops.errors import NotFound
from vulnops.tenants.models import Tenant


async def create_tenant(session: AsyncSession, *, key: str, name: str, actor: str) -> Tenant:
    tenant = Tenant(key=key, name=name)
    await add_unique(session, tenant, conflict=f"a tenant with key {key!r} already exists")
    await audit.record(
        session,
        subject=f"tenant:{tenant.id}",
        kind="tenant.created",
        actor=actor,
        data={"key": key, "name": name},
    )
    return tenant


async def get_tenant_by_key(session: AsyncSession, *, key: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.key == key))
    if tenant is None:
        raise NotFound(f"no tenant with key {key!r}")
    return tenant


async def get_tenant(session: AsyncSession, *, tenant_id: int) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant


async def tenant_names(session: AsyncSession, *, tenant_ids: set[int]) -> dict[int, str]:
    if not tenant_ids:
        return {}
    rows = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(tenant_ids)))
    return dict(rows.all())
