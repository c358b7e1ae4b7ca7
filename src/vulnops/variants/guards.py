"""The guards of a closed class: the rules and queries of its hunts, re-run so that a fixed
class stays fixed. A component guard looks at each SBOM that arrives (every minute, from its
cursor); a code guard re-scans the repositories of a service whose new version arrived, and
every repository nightly; a configuration guard runs nightly. A match opens a case with the
relation *regression* to the hunt's case, once (``guard_matches``); a match the hunt's finding
said was not a problem (or a duplicate) is not one, nor is a configuration the hunt already
found (fixing the code does not change a resource's tags).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.fleet import matching, repositories
from vulnops.settings import Settings
from vulnops.variants import findings, running, semgrep
from vulnops.variants.findings import Row
from vulnops.variants.models import Guard, GuardMatch, Hunt
from vulnops.variants.triage import open_child

GUARDED = ("code", "components", "configuration")


async def set_up(session: AsyncSession, *, cwe_id: int, case_ids: list[int]) -> int:
    """A guard for each finished code, component and configuration hunt of the class's cases
    (the ones it has already keep their cursor); how many the class has."""
    newest = await matching.newest_import(session)
    await session.execute(
        insert(Guard)
        .from_select(
            ["cwe_id", "hunt_id", "checked_through"],
            select(literal(cwe_id), Hunt.id, literal(newest, Guard.checked_through.type)).where(
                Hunt.case_id.in_(case_ids), Hunt.strategy.in_(GUARDED), Hunt.state == "finished"
            ),
        )
        .on_conflict_do_nothing()
    )
    return await count(session, cwe_id=cwe_id)


async def count(session: AsyncSession, *, cwe_id: int) -> int:
    found = await session.scalar(select(func.count()).where(Guard.cwe_id == cwe_id))
    return int(found or 0)


async def _excluded(session: AsyncSession, hunt: Hunt) -> set[str]:
    states: tuple[str, ...] = ("duplicate", "not_a_problem")
    if hunt.strategy == "configuration":
        states = ("candidate", "variant", "duplicate", "not_a_problem")
    return await findings.fingerprints(session, hunt_id=hunt.id, states=states)


async def _code_rows(
    hunt: Hunt, services: list[str], session: AsyncSession, settings: Settings
) -> list[Row]:
    """The hunt's rule over these services' repositories (those not here, or whose scan
    fails, give nothing: the next run tries them again)."""
    found = await repositories.of_services(session, keys=services) if services else []
    there, _ = await running.present([running.Spot(r.service_id, r.location) for r in found])
    limit = asyncio.Semaphore(settings.hunt_parallel)

    async def one(batch: list[running.Spot]) -> list[Row]:
        async with limit:
            try:
                scanned = await running.scan_batch(
                    str(hunt.params["rule"]), spots=batch, settings=settings
                )
            except semgrep.ScanFailed:
                return []
        return [row for rows in scanned.values() for row in rows]

    done = await asyncio.gather(
        *(one(b) for b in running.batches(there, parallel=settings.hunt_parallel))
    )
    return [row for batch in done for row in batch]


async def check(
    session: AsyncSession, *, guard: Guard, nightly: bool, settings: Settings, now: datetime
) -> int:
    """Run one guard; the regression cases it opened."""
    hunt = await session.get(Hunt, guard.hunt_id)
    assert hunt is not None
    newest = await matching.newest_import(session)
    rows: list[Row] = []
    if hunt.strategy == "components":
        rows = await running.query_rows(session, hunt=hunt, imported_after=guard.checked_through)
    elif hunt.strategy == "code":
        after = None if nightly else guard.checked_through
        services = await matching.services_with_new_sboms(session, after=after)
        if nightly or (
            newest and (guard.checked_through is None or newest > guard.checked_through)
        ):
            rows = await _code_rows(hunt, services, session, settings)
    elif nightly:
        rows = await running.query_rows(session, hunt=hunt)
    excluded = await _excluded(session, hunt)
    opened = 0
    for row in rows:
        if row.fingerprint in excluded:
            continue
        opened += await _regression(
            session, guard=guard, hunt=hunt, row=row, settings=settings, now=now
        )
    guard.checked_through = max(filter(None, (newest, guard.checked_through)), default=None)
    guard.last_run_at = now
    return opened


async def _regression(
    session: AsyncSession, *, guard: Guard, hunt: Hunt, row: Row, settings: Settings, now: datetime
) -> int:
    claimed = await session.scalar(
        insert(GuardMatch)
        .values(guard_id=guard.id, fingerprint=row.fingerprint, case_id=hunt.case_id)
        .on_conflict_do_nothing()
        .returning(GuardMatch.fingerprint)
    )
    if claimed is None:
        return 0
    parent = await cases.get_case(session, case_id=hunt.case_id)
    services = [row.location.split("@")[0]] if hunt.strategy == "components" else []
    child = await open_child(
        session,
        parent=parent,
        relation="regression",
        title=row.title,
        summary=f"The guard of the closed class CWE-{guard.cwe_id} (hunt {hunt.id}, "
        f"{hunt.strategy}) matched again: {row.location}",
        services=services,
        actor="vulnops (class guard)",
        settings=settings,
        now=now,
    )
    await session.execute(
        update(GuardMatch)
        .where(GuardMatch.guard_id == guard.id, GuardMatch.fingerprint == row.fingerprint)
        .values(case_id=child.id)
    )
    await findings.add(session, hunt_id=hunt.id, rows=[row])
    return 1


async def run_all(database: Database, *, settings: Settings, nightly: bool) -> int:
    """Every guard, each in its own transaction (locked: two workers never run one twice)."""
    async with database.session() as session:
        ids = list(await session.scalars(select(Guard.id).order_by(Guard.id)))
    opened = 0
    for guard_id in ids:
        async with database.session() as session:
            guard = await session.get(Guard, guard_id, with_for_update=True, populate_existing=True)
            if guard is None:
                continue
            opened += await check(
                session, guard=guard, nightly=nightly, settings=settings, now=datetime.now(UTC)
            )
            await session.commit()
    return opened
