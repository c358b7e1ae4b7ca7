"""The source repositories of each service: absolute paths on the machines that run hunts
(local checkouts or clones the operator keeps up to date). A path that is not there when a
hunt runs is listed on the hunt, and the others are scanned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.errors import Invalid
from vulnops.fleet import service as fleet
from vulnops.fleet.models import Service
from vulnops.variants.models import ServiceRepository


@dataclass(frozen=True)
class Repository:
    service_id: int
    service: str
    location: str


def _checked(location: str) -> str:
    path = location.strip()
    if not path or not PurePosixPath(path).is_absolute() or len(path) > 1000:
        raise Invalid(
            f"locations: {location!r} is not an absolute path (at most 1,000 characters)",
            field="locations",
        )
    return str(PurePosixPath(path))


async def replace(
    session: AsyncSession, *, service_key: str, locations: Sequence[str], actor: str
) -> list[str]:
    """Set the service's repositories to these (in one statement each way)."""
    service = await fleet.get_service(session, key=service_key)
    wanted = sorted({_checked(location) for location in locations})
    await session.execute(
        delete(ServiceRepository).where(
            ServiceRepository.service_id == service.id,
            ServiceRepository.location.not_in(wanted),
        )
    )
    if wanted:
        await session.execute(
            insert(ServiceRepository)
            .values([{"service_id": service.id, "location": w, "added_by": actor} for w in wanted])
            .on_conflict_do_nothing()
        )
    await audit.record(
        session,
        subject=f"service:{service.key}",
        kind="variants.repositories_set",
        actor=actor,
        data={"locations": wanted},
    )
    return wanted


async def of_services(session: AsyncSession, *, keys: Sequence[str] = ()) -> list[Repository]:
    """The repositories of these services (of every service when none is named)."""
    query = (
        select(ServiceRepository.service_id, Service.key, ServiceRepository.location)
        .join(Service, Service.id == ServiceRepository.service_id)
        .order_by(Service.key, ServiceRepository.location)
    )
    if keys:
        unknown = sorted(set(keys) - set(await fleet.service_names(session, keys=list(keys))))
        if unknown:
            raise Invalid(f"services: no service {unknown[0]!r}", field="services")
        query = query.where(Service.key.in_(keys))
    return [Repository(r.service_id, r.key, r.location) for r in await session.execute(query)]
