"""The source repositories of each service, in the inventory: absolute paths on the machines
that run variant hunts (local checkouts or clones the operator keeps up to date). They are set
on the service's page, by the API, or by a topology import that names them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.errors import Invalid
from vulnops.fleet.models import Service
from vulnops.fleet.service import get_service
from vulnops.fleet.topology import checked_locations


@dataclass(frozen=True)
class Repository:
    service_id: int
    service: str
    location: str


async def replace(
    session: AsyncSession, *, service_key: str, locations: Sequence[str], actor: str
) -> list[str]:
    """Set the service's repositories to these; Invalid names the first that is no absolute
    path."""
    service = await get_service(session, key=service_key)
    try:
        wanted = checked_locations(list(locations))
    except ValueError as error:
        raise Invalid(f"locations: {error}", field="locations") from None
    if len(wanted) > 100:
        raise Invalid("locations: at most 100 per service", field="locations")
    service.repositories = wanted
    await session.flush()
    await audit.record(
        session,
        subject=f"service:{service.key}",
        kind="fleet.repositories_set",
        actor=actor,
        data={"locations": wanted},
    )
    return wanted


async def of_services(session: AsyncSession, *, keys: Sequence[str] = ()) -> list[Repository]:
    """The repositories of these services (of every service when none is named), one row per
    location."""
    location = func.unnest(Service.repositories).table_valued("value").render_derived()
    query = (
        select(Service.id, Service.key, location.c.value)
        .select_from(Service)
        .join(location, location.c.value.is_not(None))
        .order_by(Service.key, location.c.value)
    )
    if keys:
        known = set(await session.scalars(select(Service.key).where(Service.key.in_(keys))))
        unknown = sorted(set(keys) - known)
        if unknown:
            raise Invalid(f"services: no service {unknown[0]!r}", field="services")
        query = query.where(Service.key.in_(keys))
    return [Repository(r[0], r[1], r[2]) for r in await session.execute(query)]
