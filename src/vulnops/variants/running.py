"""Running a hunt (the ``variants:run_hunt`` job): level-triggered, so a crash anywhere is
harmless. The job marks the hunt running, answers a query strategy in one transaction, or scans
each code location still pending — batches of repositories, several Semgrep processes at
once — writing each location's findings and state in its own transaction; a rerun takes the
pending locations only, and the findings' fingerprints keep anything from being written
twice."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import cwe
from vulnops.cases.models import Case
from vulnops.db.database import Database
from vulnops.errors import DomainError
from vulnops.fleet import matching
from vulnops.intake import sarif
from vulnops.settings import Settings
from vulnops.variants import findings, semgrep
from vulnops.variants.findings import Row
from vulnops.variants.models import Hunt, HuntLocation


async def query_rows(
    session: AsyncSession, *, hunt: Hunt, imported_after: datetime | None = None
) -> list[Row]:
    """The findings of a query strategy (components, configuration, history), set-based."""
    params: dict[str, Any] = hunt.params
    if hunt.strategy == "components":
        hits = await matching.component_hits(
            session,
            purl=params["purl"],
            version_range=params.get("range"),
            imported_after=imported_after,
        )
        return [
            Row(
                key=("components", h.service_id, h.version, tuple(h.component_versions)),
                title=f"{h.service} {h.version} holds {params['purl']} "
                f"{', '.join(h.component_versions)}",
                location=f"{h.service}@{h.version}",
                service_id=h.service_id,
                detail={"component_versions": h.component_versions, "units": h.units},
            )
            for h in hits
        ]
    if hunt.strategy == "configuration":
        tagged = await matching.tag_hits(
            session,
            tags_all=params["tags_all"],
            tags_any=params["tags_any"],
            tags_none=params["tags_none"],
        )
        return [
            Row(
                key=("configuration", t.service_id),
                title=f"{t.resources:,} resources of {t.tenants:,} tenants on {t.service} "
                "match the configuration",
                location=t.service,
                service_id=t.service_id,
                detail={"resources": t.resources, "tenants": t.tenants, "units": t.units},
            )
            for t in tagged
        ]
    weakness = int(params["cwe_id"])
    family = sorted({weakness, *cwe.descendants(weakness)})
    earlier = await session.execute(
        select(Case.id, Case.tracking_id, Case.title, Case.cwe_id, Case.state, Case.services)
        .where(Case.cwe_id.in_(family), Case.id != hunt.case_id)
        .order_by(Case.opened_at)
    )
    return [
        Row(
            key=("history", c.id),
            title=f"{c.tracking_id}: {c.title}",
            location=", ".join(c.services),
            rule_id=f"CWE-{c.cwe_id}",
            about_case_id=c.id,
            detail={"state": c.state, "cwe_id": c.cwe_id},
        )
        for c in earlier
    ]


@dataclass(frozen=True)
class Spot:
    """A repository of a service, as a hunt scans it."""

    service_id: int
    location: str


# Semgrep takes about two seconds to start: each process scans a batch of repositories, sized so
# that the parallel processes go round about four times (the start-up is paid a few times, and
# the progress still moves), rather than one process per repository.
ROUNDS = 4


def batches(spots: Sequence[Spot], *, parallel: int) -> list[list[Spot]]:
    size = max(1, math.ceil(len(spots) / (parallel * ROUNDS)))
    return [list(spots[i : i + size]) for i in range(0, len(spots), size)]


async def present(spots: Sequence[Spot]) -> tuple[list[Spot], list[Spot]]:
    """The spots whose directory is on this machine, and those whose is not."""
    there = await asyncio.to_thread(lambda: [Path(s.location).is_dir() for s in spots])
    return [s for s, ok in zip(spots, there, strict=True) if ok], [
        s for s, ok in zip(spots, there, strict=True) if not ok
    ]


async def scan_batch(
    rule: str, *, spots: Sequence[Spot], settings: Settings
) -> dict[Spot, list[Row]]:
    """One Semgrep run over the batch's repositories; each finding goes to the repository whose
    path holds it (raises ScanFailed for the whole batch)."""
    document = await semgrep.scan(
        rule, repositories=sorted({Path(s.location) for s in spots}), settings=settings
    )
    parsed = sarif.findings(document)
    roots = sorted({s.location.rstrip("/") for s in spots}, key=len, reverse=True)
    by_root: dict[str, list[sarif.Finding]] = {root: [] for root in roots}
    for found in parsed.findings:
        owner = next((r for r in roots if found.location.startswith(r + "/")), None)
        if owner is not None:
            by_root[owner].append(found)
    return {
        spot: findings.from_sarif(
            replace(parsed, findings=by_root[spot.location.rstrip("/")]),
            service_id=spot.service_id,
            repository=spot.location,
        )
        for spot in spots
    }


async def _finish(session: AsyncSession, hunt: Hunt, now: datetime) -> None:
    unscanned = list(
        await session.scalars(
            select(HuntLocation.location).where(
                HuntLocation.hunt_id == hunt.id, HuntLocation.state.in_(("missing", "failed"))
            )
        )
    )
    hunt.state, hunt.finished_at = "finished", now
    hunt.error = (
        f"{len(unscanned)} location(s) not scanned: {', '.join(unscanned)}" if unscanned else None
    )


async def _record(
    database: Database, hunt_id: int, spot: Spot, state: str, message: str, rows: list[Row]
) -> None:
    async with database.session() as session:
        await findings.add(session, hunt_id=hunt_id, rows=rows)
        await session.execute(
            update(HuntLocation)
            .where(
                HuntLocation.hunt_id == hunt_id,
                HuntLocation.service_id == spot.service_id,
                HuntLocation.location == spot.location,
            )
            .values(state=state, message=message, findings=len(rows))
        )
        await session.commit()


async def _scan_all(database: Database, hunt: Hunt, settings: Settings) -> None:
    async with database.session() as session:
        pending = [
            Spot(loc.service_id, loc.location)
            for loc in await session.scalars(
                select(HuntLocation)
                .where(HuntLocation.hunt_id == hunt.id, HuntLocation.state == "pending")
                .order_by(HuntLocation.location, HuntLocation.service_id)
            )
        ]
    there, missing = await present(pending)
    for spot in missing:
        await _record(
            database, hunt.id, spot, "missing", f"{spot.location} is not a directory here", []
        )
    limit = asyncio.Semaphore(settings.hunt_parallel)
    rule = str(hunt.params["rule"])

    async def one(batch: list[Spot]) -> None:
        async with limit:
            try:
                found = await scan_batch(rule, spots=batch, settings=settings)
            except (semgrep.ScanFailed, DomainError) as exc:
                for spot in batch:
                    await _record(database, hunt.id, spot, "failed", str(exc), [])
                return
        for spot in batch:
            await _record(database, hunt.id, spot, "scanned", "", found[spot])

    await asyncio.gather(*(one(batch) for batch in batches(there, parallel=settings.hunt_parallel)))


async def run(database: Database, *, hunt_id: int, settings: Settings) -> str:
    """Run (or go on with) the hunt; its state at the end."""
    async with database.session() as session:
        hunt = await session.get(Hunt, hunt_id, with_for_update=True)
        if hunt is None or hunt.state in ("finished", "failed"):
            return hunt.state if hunt else "gone"
        hunt.state = "running"
        hunt.started_at = hunt.started_at or datetime.now(UTC)
        await session.commit()
    if hunt.strategy == "code":
        try:
            semgrep.command(settings)
        except DomainError as exc:
            return await _fail(database, hunt_id, str(exc))
        await _scan_all(database, hunt, settings)
    async with database.session() as session:
        hunt = await session.get(Hunt, hunt_id, with_for_update=True)
        assert hunt is not None
        if hunt.strategy != "code":
            await findings.add(session, hunt_id=hunt.id, rows=await query_rows(session, hunt=hunt))
        await _finish(session, hunt, datetime.now(UTC))
        await session.commit()
        return hunt.state


async def _fail(database: Database, hunt_id: int, message: str) -> str:
    async with database.session() as session:
        await session.execute(
            update(Hunt)
            .where(Hunt.id == hunt_id)
            .values(state="failed", error=message, finished_at=datetime.now(UTC))
        )
        await session.commit()
    return "failed"
