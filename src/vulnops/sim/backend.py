"""The ``simulated`` deployment backend: deploying is recording that the unit runs the version
from now on (idempotent by the change's key); what a unit runs is the latest record, or what the
inventory says for a unit the simulator never touched."""

from __future__ import annotations

from vulnops.db.database import Database
from vulnops.fleet import deployment
from vulnops.rollout.interfaces import Context, Target
from vulnops.sim import service


def database_of(context: Context) -> Database:
    if context.database is None:
        raise RuntimeError("the simulated fleet needs the database")
    return context.database


class SimulatedBackend:
    def __init__(self, context: Context) -> None:
        self.context = context

    async def deploy(self, target: Target, version: str, *, key: str) -> None:
        async with database_of(self.context).session() as session:
            await service.record_deployment(
                session, unit_id=target.unit_id, version=version, key=key, now=self.context.clock()
            )
            await session.commit()

    async def current_version(self, target: Target) -> str | None:
        async with database_of(self.context).session() as session:
            recorded = await service.current_versions(session, unit_ids=[target.unit_id])
            if target.unit_id in recorded:
                return recorded[target.unit_id]
            placements = await deployment.placements(session, unit_ids=[target.unit_id])
        found = placements.get(target.unit_id)
        return found.version if found else None


def factory(context: Context) -> SimulatedBackend:
    return SimulatedBackend(context)
