"""A hunt's findings: what each strategy found, as rows keyed by a fingerprint (a hunt that
runs again, or a job that runs twice, writes each finding once)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.intake.sarif import ParsedLog
from vulnops.variants.models import Finding
from vulnops.variants.schemas import FindingOut


@dataclass(frozen=True)
class Row:
    key: tuple[object, ...]
    title: str
    location: str = ""
    rule_id: str = ""
    service_id: int | None = None
    about_case_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self.key).encode()).hexdigest()


async def add(session: AsyncSession, *, hunt_id: int, rows: Sequence[Row]) -> int:
    """Write the rows not yet written (one statement); how many were new."""
    if not rows:
        return 0
    written = await session.scalars(
        insert(Finding)
        .values(
            [
                {
                    "hunt_id": hunt_id,
                    "fingerprint": row.fingerprint,
                    "service_id": row.service_id,
                    "about_case_id": row.about_case_id,
                    "title": row.title[:2000],
                    "location": row.location[:2000],
                    "rule_id": row.rule_id[:300],
                    "detail": row.detail,
                }
                for row in {r.fingerprint: r for r in rows}.values()
            ]
        )
        .on_conflict_do_nothing()
        .returning(Finding.id)
    )
    return len(list(written))


def from_sarif(
    parsed: ParsedLog, *, service_id: int | None = None, repository: str = ""
) -> list[Row]:
    """SARIF findings (Semgrep's over one repository, or any tool's upload) as rows: keyed by
    the repository, the rule and the place in it, so the same match in a later run is the
    same row."""
    rows = []
    root = repository.rstrip("/") + "/"
    for found in parsed.findings:
        inside = found.location.removeprefix(root) if repository else found.location
        location = f"{root}{inside}" if repository else found.location
        rows.append(
            Row(
                key=("code", service_id, repository, found.rule_id, inside),
                title=f"{found.rule_id} at {inside}" if repository else found.title,
                location=location,
                rule_id=found.rule_id,
                service_id=service_id,
                detail={
                    "scanner": found.scanner,
                    "severity": found.severity.value,
                    "description": found.description[:5000],
                },
            )
        )
    return rows


def out(found: Finding, keys: dict[int, str]) -> FindingOut:
    return FindingOut(
        id=found.id,
        hunt_id=found.hunt_id,
        service=keys.get(found.service_id) if found.service_id is not None else None,
        about_case_id=found.about_case_id,
        title=found.title,
        location=found.location,
        rule_id=found.rule_id,
        detail=found.detail,
        state=found.state,
        reason=found.reason,
        decided_case_id=found.decided_case_id,
        decided_by=found.decided_by,
        decided_at=found.decided_at,
    )


async def fingerprints(session: AsyncSession, *, hunt_id: int, states: Sequence[str]) -> set[str]:
    return set(
        await session.scalars(
            select(Finding.fingerprint).where(Finding.hunt_id == hunt_id, Finding.state.in_(states))
        )
    )
