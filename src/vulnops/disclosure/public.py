"""What the public may see: disclosed cases whose embargo has ended, in their approved public
text, nothing else.

Every public route, feed and file reads cases through :func:`public_cases` (or
:func:`public_case`), which hold the one rule: approved for disclosure, ``public_from`` has
passed, and shown only through the newest approved public text (never the internal title or
summary).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.pagination import Page
from vulnops.errors import NotFound
from vulnops.intake.states import INVALID_REASONS

_VISIBLE = """
FROM disclosures d
JOIN cases c ON c.id = d.case_id
JOIN LATERAL (
    SELECT t.title, t.description, t.impact, t.customer_action, t.acknowledgments
    FROM public_texts t WHERE t.case_id = c.id AND t.status = 'approved'
    ORDER BY t.number DESC LIMIT 1
) t ON true
WHERE d.disclosed_at IS NOT NULL AND d.public_from <= :now
"""
# A report closed as no valid finding earns no credit (the same rule as intake's credit_names).
_CREDITED = "r.close_reason IS NULL OR r.close_reason NOT IN ({})".format(
    ", ".join(f"'{reason.value}'" for reason in sorted(INVALID_REASONS))
)
_COLUMNS = f"""
SELECT c.id, c.tracking_id, t.title, t.description, t.impact, t.customer_action,
       t.acknowledgments, c.rating, c.cvss31_vector, c.cvss31_score,
       c.cvss40_vector, c.cvss40_score, c.cwe_id, c.customer_action_required, c.services,
       d.public_from, CASE WHEN d.cve_published_at IS NOT NULL THEN d.cve_id END AS cve_id,
       ARRAY(SELECT DISTINCT r.credit_name FROM reports r
             WHERE r.case_id = c.id AND r.credit_name IS NOT NULL AND ({_CREDITED})) AS credits
"""  # noqa: S608 - constant fragments


@dataclass(frozen=True)
class PublicAdvisory:
    id: int
    tracking_id: str
    title: str
    description: str
    impact: str
    customer_action: str
    acknowledgments: str
    rating: str | None
    cvss31_vector: str | None
    cvss31_score: float | None
    cvss40_vector: str | None
    cvss40_score: float | None
    cwe_id: int | None
    customer_action_required: bool
    services: list[str]
    public_from: datetime
    cve_id: str | None
    credits: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.tracking_id,
            "title": self.title,
            "description": self.description,
            "impact": self.impact,
            "customer_action": self.customer_action,
            "acknowledgments": self.acknowledgments,
            "cve": self.cve_id,
            "severity": self.rating,
            "cvss_v3_1": {"vector": self.cvss31_vector, "score": self.cvss31_score}
            if self.cvss31_vector
            else None,
            "cvss_v4_0": {"vector": self.cvss40_vector, "score": self.cvss40_score}
            if self.cvss40_vector
            else None,
            "cwe": f"CWE-{self.cwe_id}" if self.cwe_id else None,
            "customer_action_required": self.customer_action_required,
            "services": self.services,
            "published": self.public_from.isoformat(),
            "credits": self.credits,
        }


async def public_cases(
    session: AsyncSession, *, now: datetime, page: int = 1, per_page: int = 50
) -> Page[PublicAdvisory]:
    """Public advisories, newest first."""
    per_page, page = min(max(per_page, 1), 200), max(page, 1)
    total = await session.scalar(text(f"SELECT count(*) {_VISIBLE}"), {"now": now})
    rows = await session.execute(
        text(
            f"{_COLUMNS} {_VISIBLE} ORDER BY d.public_from DESC, c.id DESC "
            "LIMIT :limit OFFSET :offset"
        ),
        {"now": now, "limit": per_page, "offset": (page - 1) * per_page},
    )
    items = [PublicAdvisory(**row._mapping) for row in rows]
    return Page(items, int(total or 0), page, per_page)


async def public_case(session: AsyncSession, *, tracking_id: str, now: datetime) -> PublicAdvisory:
    """One public advisory; an embargoed or undisclosed case is not found, like a missing one."""
    row = (
        await session.execute(
            text(f"{_COLUMNS} {_VISIBLE} AND c.tracking_id = :tracking_id"),
            {"now": now, "tracking_id": tracking_id},
        )
    ).first()
    if row is None:
        raise NotFound("no such public advisory")
    return PublicAdvisory(**row._mapping)


async def credited(session: AsyncSession, *, now: datetime) -> list[dict[str, Any]]:
    """The researchers credited in public advisories, with those advisories."""
    rows = await session.execute(
        text(
            "SELECT r.credit_name AS name, array_agg(DISTINCT c.tracking_id) AS advisories "  # noqa: S608 - constant fragments
            "FROM reports r JOIN cases c ON c.id = r.case_id "
            f"WHERE r.credit_name IS NOT NULL AND ({_CREDITED}) "
            f"AND r.case_id IN (SELECT c.id {_VISIBLE}) "
            "GROUP BY r.credit_name ORDER BY r.credit_name"
        ),
        {"now": now},
    )
    return [dict(row._mapping) for row in rows]


async def public_index(
    session: AsyncSession, *, now: datetime, year: int | None = None
) -> list[tuple[str, datetime]]:
    """Every public case's tracking id and release, oldest first (the CSAF directory), or
    those released in one year (UTC, as the directory's year folders are)."""
    in_year = (
        "" if year is None else " AND date_part('year', d.public_from AT TIME ZONE 'UTC') = :year"
    )
    rows = await session.execute(
        text(
            f"SELECT c.tracking_id, d.public_from {_VISIBLE}{in_year} ORDER BY d.public_from, c.id"
        ),
        {"now": now, "year": year} if year is not None else {"now": now},
    )
    return [(tracking_id, released) for tracking_id, released in rows.all()]


async def public_years(session: AsyncSession, *, now: datetime) -> list[int]:
    """The years (UTC) with a public advisory, oldest first: the CSAF directory's folders."""
    rows = await session.scalars(
        text(
            "SELECT DISTINCT CAST(date_part('year', d.public_from AT TIME ZONE 'UTC') AS int) "
            f"AS year {_VISIBLE} ORDER BY year"
        ),
        {"now": now},
    )
    return list(rows)
