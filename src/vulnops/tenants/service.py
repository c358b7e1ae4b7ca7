from __future__ import annotations

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.db.writes import add_unique
from vulnops.errors import Invalid, NotFound
from vulnops.tenants import webhook_url
from vulnops.tenants.models import WEBHOOK_SECRET_SQL, Tenant, TenantContact


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


async def list_tenants(
    session: AsyncSession, *, search: str | None = None, page: int = 1, per_page: int = 50
) -> Page[Tenant]:
    stmt = select(Tenant)
    if search and search.strip():
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(Tenant.key.like(pattern), func.lower(Tenant.name).like(pattern)))
    return await paginate_scalars(session, stmt.order_by(Tenant.key), page=page, per_page=per_page)


async def contacts(session: AsyncSession, *, tenant_id: int) -> list[TenantContact]:
    rows = await session.scalars(
        select(TenantContact)
        .where(TenantContact.tenant_id == tenant_id)
        .order_by(TenantContact.channel, TenantContact.address)
    )
    return list(rows)


async def set_webhook(
    session: AsyncSession, *, tenant_id: int, url: str, allow_private: bool, actor: str
) -> None:
    """Replace the tenant's webhook endpoint (an empty ``url`` removes it)."""
    url = url.strip()
    if url:
        try:
            await webhook_url.check(url, allow_private=allow_private)
        except webhook_url.Unreachable as error:
            raise Invalid(f"url: {error}") from None
        except OSError as error:
            raise Invalid(f"url: {url!r} does not resolve: {error}") from None
    await session.execute(
        delete(TenantContact).where(
            TenantContact.tenant_id == tenant_id, TenantContact.channel == "webhook"
        )
    )
    if url:
        session.add(TenantContact(tenant_id=tenant_id, channel="webhook", address=url))
    await session.flush()
    await audit.record(
        session,
        subject=f"tenant:{tenant_id}",
        kind="tenant.webhook_set",
        actor=actor,
        data={"url": url or None},
    )


async def rotate_webhook_secret(session: AsyncSession, *, tenant_id: int, actor: str) -> str:
    """A new signing secret for the tenant's webhooks (the old one stops working at once)."""
    secret: str | None = await session.scalar(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(webhook_secret=text(WEBHOOK_SECRET_SQL))
        .returning(Tenant.webhook_secret)
    )
    if secret is None:
        raise NotFound(f"no tenant {tenant_id}")
    await audit.record(
        session, subject=f"tenant:{tenant_id}", kind="tenant.webhook_secret_rotated", actor=actor
    )
    return secret
