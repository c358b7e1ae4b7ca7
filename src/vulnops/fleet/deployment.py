"""What a rollout needs from the inventory: where each unit of a service is (region, its pair,
canary or not), how much of the service's traffic it serves, and — once a unit runs a new
version — recording that."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.fleet.models import DeploymentUnit


@dataclass(frozen=True)
class Placement:
    id: int
    service: str
    region: str
    scale_unit: str
    version: str
    traffic_share: float  # within its region
    traffic: float  # share of the whole service's traffic
    tags: tuple[str, ...]
    geography: str
    region_weight: float
    region_pair: str | None
    region_canary: bool


_PLACEMENTS = """
SELECT u.id, s.key AS service, r.key AS region, u.scale_unit, u.current_version AS version,
       u.traffic_share, u.tags, r.geography, r.traffic_weight AS region_weight,
       p.key AS region_pair, r.canary AS region_canary,
       coalesce(r.traffic_weight * u.traffic_share
                / nullif(sum(r.traffic_weight * u.traffic_share)
                         OVER (PARTITION BY u.service_id), 0),
                1.0 / count(*) OVER (PARTITION BY u.service_id)) AS traffic
FROM deployment_units u
JOIN services s ON s.id = u.service_id
JOIN regions r ON r.id = u.region_id
LEFT JOIN regions p ON p.id = r.pair_id
"""


def _placement(row: object) -> Placement:
    mapping = dict(row._mapping)  # type: ignore[attr-defined]
    mapping["tags"] = tuple(mapping["tags"])
    return Placement(**mapping)


async def service_units(session: AsyncSession, *, service_id: int) -> list[Placement]:
    """Every unit of the service, ordered by region and scale unit."""
    rows = await session.execute(
        text(_PLACEMENTS + " WHERE u.service_id = :service ORDER BY r.key, u.scale_unit"),
        {"service": service_id},
    )
    return [_placement(row) for row in rows]


async def placements(session: AsyncSession, *, unit_ids: Iterable[int]) -> dict[int, Placement]:
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    rows = await session.execute(
        text(
            f"SELECT * FROM ({_PLACEMENTS} WHERE u.service_id IN "  # noqa: S608 - constants
            "(SELECT service_id FROM deployment_units WHERE id = ANY(:ids))) x "
            "WHERE x.id = ANY(:ids)"
        ),
        {"ids": ids},
    )
    return {placement.id: placement for placement in map(_placement, rows)}


async def set_version(session: AsyncSession, *, unit_ids: Iterable[int], version: str) -> None:
    """Record that these units run ``version`` now."""
    ids = sorted(set(unit_ids))
    if ids:
        await session.execute(
            update(DeploymentUnit).where(DeploymentUnit.id.in_(ids)).values(current_version=version)
        )
