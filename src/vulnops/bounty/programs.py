"""Bounty programmes: their scope as data, their rules, and the award table in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.bounty.models import BountyProgram
from vulnops.bounty.schemas import ProgramView
from vulnops.bounty.tables import AwardTable, parse_table
from vulnops.db.writes import add_unique
from vulnops.errors import Invalid


class Scope(BaseModel):
    """Which reports a programme covers: the services (none listed: every one), and what it
    says is out of scope, in words (shown to researchers)."""

    model_config = ConfigDict(extra="forbid")

    services: list[str] = Field(default_factory=list, max_length=500)
    out_of_scope: list[str] = Field(default_factory=list, max_length=100)

    def covers(self, service: str | None) -> bool:
        return not self.services or (service is not None and service in self.services)


def table_of(program: BountyProgram) -> AwardTable:
    return parse_table(program.award_table, source=f"programme {program.key}")


def view(program: BountyProgram) -> ProgramView:
    table, scope = table_of(program), Scope.model_validate(program.scope)
    return ProgramView(
        key=program.key,
        name=program.name,
        rules=program.rules,
        services=scope.services,
        out_of_scope=scope.out_of_scope,
        table_key=table.key,
        table_version=table.version,
        currency=table.currency,
        starts_at=program.starts_at,
        ends_at=program.ends_at,
    )


async def create_program(
    session: AsyncSession,
    *,
    key: str,
    name: str,
    table: AwardTable,
    scope: Scope,
    starts_at: datetime,
    actor: str,
    rules: str = "",
    ends_at: datetime | None = None,
) -> ProgramView:
    if not key.strip() or len(key) > 100:
        raise Invalid("key: 1 to 100 characters")
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid("ends_at: a programme ends after it starts")
    document: dict[str, Any] = dict(table.document)
    program = BountyProgram(
        key=key,
        name=name or key,
        rules=rules,
        scope=scope.model_dump(),
        award_table=document,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    await add_unique(session, program, conflict=f"a programme {key!r} exists")
    await audit.record(
        session,
        subject=f"bounty_program:{key}",
        kind="bounty.program_created",
        actor=actor,
        data={"table": table.key, "version": table.version, "scope": scope.model_dump()},
    )
    return view(program)


async def eligible(
    session: AsyncSession, *, service: str | None, now: datetime
) -> list[BountyProgram]:
    """The programmes active at ``now`` whose scope covers ``service``."""
    active = await session.scalars(
        select(BountyProgram)
        .where(
            BountyProgram.starts_at <= now,
            or_(BountyProgram.ends_at.is_(None), BountyProgram.ends_at > now),
        )
        .order_by(BountyProgram.key)
    )
    return [p for p in active if Scope.model_validate(p.scope).covers(service)]
