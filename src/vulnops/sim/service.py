"""The simulated fleet's state in the database: which version each unit ran since when (the
``simulated`` backend writes it), and which releases misbehave (set by the demo, or by hand with
``vulnops sim fault``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.durations import format_duration, parse_duration
from vulnops.fleet import service as fleet
from vulnops.sim.model import Fault
from vulnops.sim.models import SimDeployment, SimFault

LONG_AGO = timedelta(days=365)  # "since ever" for a unit the simulator never changed


def fault_to_json(fault: Fault) -> dict[str, Any]:
    data = asdict(fault)
    data["crash_after"] = format_duration(fault.crash_after) if fault.crash_after else None
    return data


def fault_from_json(data: dict[str, Any]) -> Fault:
    crash_after = data.get("crash_after")
    return Fault(
        error_multiplier=float(data.get("error_multiplier", 1.0)),
        latency_multiplier=float(data.get("latency_multiplier", 1.0)),
        crash_after=parse_duration(crash_after, where="crash_after", allow_zero=True)
        if crash_after
        else None,
        only_tag=data.get("only_tag"),
    )


async def set_fault(session: AsyncSession, *, service_key: str, version: str, fault: Fault) -> None:
    service = await fleet.get_service(session, key=service_key)
    await session.execute(
        insert(SimFault)
        .values(service_id=service.id, version=version, fault=fault_to_json(fault))
        .on_conflict_do_update(
            index_elements=["service_id", "version"], set_={"fault": fault_to_json(fault)}
        )
    )


async def faults(session: AsyncSession, *, service_key: str) -> dict[str, Fault]:
    service = await fleet.get_service(session, key=service_key)
    rows = await session.execute(
        select(SimFault.version, SimFault.fault).where(SimFault.service_id == service.id)
    )
    return {version: fault_from_json(data) for version, data in rows.all()}


async def all_faults(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT s.key AS service, f.version, f.fault FROM sim_faults f "
            "JOIN services s ON s.id = f.service_id ORDER BY s.key, f.version"
        )
    )
    return [dict(row._mapping) for row in rows]


async def record_deployment(
    session: AsyncSession, *, unit_id: int, version: str, key: str, now: datetime
) -> None:
    """The unit runs ``version`` from now; a retry with the same key changes nothing."""
    await session.execute(
        insert(SimDeployment)
        .values(unit_id=unit_id, version=version, since=now, key=key)
        .on_conflict_do_nothing(index_elements=["unit_id", "key"])
    )


async def current_versions(session: AsyncSession, *, unit_ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(
        text(
            "SELECT DISTINCT ON (unit_id) unit_id, version FROM sim_deployments "
            "WHERE unit_id = ANY(:ids) ORDER BY unit_id, since DESC, id DESC"
        ),
        {"ids": sorted(set(unit_ids))},
    )
    return {int(unit_id): str(version) for unit_id, version in rows.all()}


async def histories(
    session: AsyncSession, *, unit_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[tuple[str, datetime]]]:
    """For each unit, the (version, since) changes that matter to [start, end): the last one
    before ``start`` and every one inside, oldest first."""
    rows = await session.execute(
        text(
            """
            SELECT unit_id, version, since FROM (
                SELECT DISTINCT ON (unit_id) unit_id, version, since, id FROM sim_deployments
                WHERE unit_id = ANY(:ids) AND since <= :start
                ORDER BY unit_id, since DESC, id DESC
            ) before
            UNION ALL
            SELECT unit_id, version, since FROM sim_deployments
            WHERE unit_id = ANY(:ids) AND since > :start AND since < :end
            ORDER BY 1, 3
            """
        ),
        {"ids": sorted(set(unit_ids)), "start": start, "end": end},
    )
    found: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for unit_id, version, since in rows.all():
        found[int(unit_id)].append((str(version), since))
    return found
