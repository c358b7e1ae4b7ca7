"""Reputation: points computed from the event log by a published formula, and the leaderboards.

The formula (docs/bounty.md "Reputation"), after HackerOne's reputation and Bugcrowd's points:

==============================  ======  ==============================================
event                           points  basis
==============================  ======  ==============================================
report triaged or accepted      +7      HackerOne: resolved +7
closed as a duplicate           +2      HackerOne: duplicate of a resolved report +2
closed not applicable / scope   -5      HackerOne: not applicable -5
closed as spam                  -10     HackerOne: spam -10
award granted, severity 1st     +40     Bugcrowd: P1 40, P2 20, P3 10, P4 5, P5 0
... 2nd / 3rd / 4th of the table  +20 / +10 / +5
==============================  ======  ==============================================

Each (researcher, report, reason) scores once, however often the report is reopened; every
co-reporter of an award gets its severity points. The scorer reads the log from its cursor, so
scoring again changes nothing and a crash loses nothing (points, totals and cursor are written
in one transaction). Totals are kept per year (``2026``), quarter (``2026-Q4``) and ``all``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Final

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.bounty.models import BountyHallOfFame
from vulnops.errors import Invalid

START: Final = 100  # HackerOne's reputation starts at 100
POINTS: Final = {
    "valid": 7,
    "duplicate": 2,
    "not_applicable": -5,
    "spam": -10,
    "severity_0": 40,
    "severity_1": 20,
    "severity_2": 10,
    "severity_3": 5,
}
BATCH: Final = 50_000
_PERIOD = re.compile(r"^(all|\d{4}|\d{4}-Q[1-4])$")

_SCORE = text(
    """
WITH batch AS (
    SELECT seq, subject, kind, data, occurred_at FROM audit_events
    WHERE seq > :after AND seq <= :upto
      AND kind IN ('report.state_changed', 'bounty.award_granted')
), reasons AS (
    SELECT b.seq, r.reporter_id AS researcher_id, r.id AS report_id, b.occurred_at,
           CASE WHEN b.data->>'to' IN ('triaged', 'accepted') THEN 'valid'
                WHEN b.data->>'close_reason' = 'duplicate' THEN 'duplicate'
                WHEN b.data->>'close_reason' IN ('not_applicable', 'out_of_scope')
                    THEN 'not_applicable'
                WHEN b.data->>'close_reason' = 'spam' THEN 'spam' END AS reason
    FROM batch b
    JOIN reports r ON r.id = split_part(b.subject, ':', 2)::bigint
    WHERE b.kind = 'report.state_changed' AND b.subject LIKE 'report:%'
      AND r.reporter_id IS NOT NULL
    UNION ALL
    SELECT b.seq, who.id::bigint, (b.data->>'report')::bigint, b.occurred_at,
           'severity_' || (b.data->>'severity_rank')
    FROM batch b, jsonb_array_elements_text(b.data->'researchers') AS who(id)
    WHERE b.kind = 'bounty.award_granted'
), scored AS (
    SELECT r.*, p.points FROM reasons r
    JOIN (SELECT key, value::int AS points FROM jsonb_each_text(CAST(:points AS jsonb))) p
      ON p.key = r.reason
), inserted AS (
    INSERT INTO bounty_reputation_points
        (event_seq, researcher_id, points, reason, report_id, occurred_at)
    SELECT seq, researcher_id, points, reason, report_id, occurred_at FROM scored
    ON CONFLICT (researcher_id, report_id, reason) DO NOTHING
    RETURNING researcher_id, points, occurred_at
), periods AS (
    SELECT i.researcher_id, p.period, sum(i.points) AS points
    FROM inserted i, LATERAL (VALUES
        ('all'),
        (to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY')),
        (to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-"Q"Q'))) AS p(period)
    GROUP BY 1, 2
), totals AS (
    INSERT INTO bounty_reputation_totals AS t (period, researcher_id, points)
    SELECT period, researcher_id, points FROM periods
    ON CONFLICT (period, researcher_id) DO UPDATE SET points = t.points + EXCLUDED.points
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)
"""
)


class Standing(BaseModel):
    researcher_id: int
    reputation: int  # START plus every point
    period: str
    points: int  # in the period
    rank: int | None  # in the period; None: no points in it


class Leader(BaseModel):
    rank: int
    researcher_id: int
    name: str  # the chosen public name (the hall of fame) or, for staff, the account's email
    points: int


def quarter(when: datetime) -> str:
    """The period of ``when``'s quarter (``2026-Q4``)."""
    return f"{when.year}-Q{(when.month - 1) // 3 + 1}"


def check_period(period: str) -> str:
    if not _PERIOD.match(period):
        raise Invalid(f"period: {period!r} is not a year (2026), a quarter (2026-Q4) or all")
    return period


class Scored(BaseModel):
    events: int  # read from the log (0: the scorer has caught up)
    points: int  # rows of points written


async def score(session: AsyncSession, *, batch: int = BATCH) -> Scored:
    """Score the log's next ``batch`` events past the cursor. Callers commit; the cursor row
    is locked, so two scorers never score the same events."""
    after = await session.scalar(
        text(
            "INSERT INTO bounty_reputation_cursor (id, seq) VALUES (1, 0) "
            "ON CONFLICT (id) DO UPDATE SET seq = bounty_reputation_cursor.seq RETURNING seq"
        )
    )
    events, upto = (
        await session.execute(
            text(
                "SELECT count(*), coalesce(max(seq), :after) FROM (SELECT seq FROM audit_events "
                "WHERE seq > :after ORDER BY seq LIMIT :batch) AS next"
            ),
            {"after": after, "batch": batch},
        )
    ).one()
    if not events:
        return Scored(events=0, points=0)
    written = await session.scalar(
        _SCORE, {"after": after, "upto": upto, "points": json.dumps(POINTS)}
    )
    await session.execute(
        text("UPDATE bounty_reputation_cursor SET seq = :upto WHERE id = 1"), {"upto": upto}
    )
    return Scored(events=int(events), points=int(written or 0))


async def standing(session: AsyncSession, *, researcher_id: int, period: str) -> Standing:
    """A researcher's reputation, their points in ``period`` and their rank there."""
    row = (
        await session.execute(
            text(
                "SELECT (SELECT points FROM bounty_reputation_totals WHERE period = 'all' "
                "AND researcher_id = :id) AS total, "
                "(SELECT points FROM bounty_reputation_totals WHERE period = :period "
                "AND researcher_id = :id) AS points"
            ),
            {"id": researcher_id, "period": check_period(period)},
        )
    ).one()
    rank = None
    if row.points is not None:
        rank = 1 + int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM bounty_reputation_totals "
                    "WHERE period = :period AND points > :points"
                ),
                {"period": period, "points": row.points},
            )
            or 0
        )
    return Standing(
        researcher_id=researcher_id,
        reputation=START + int(row.total or 0),
        period=period,
        points=int(row.points or 0),
        rank=rank,
    )


async def leaderboard(
    session: AsyncSession, *, period: str, limit: int, public: bool
) -> list[Leader]:
    """The top of ``period``'s board. ``public``: only the researchers who chose to be named
    (the hall of fame), under their chosen name; ranks count the named ones only, so a public
    rank never hints at someone who is not named."""
    if public:
        query = (
            "SELECT t.researcher_id, h.public_name AS name, t.points "
            "FROM bounty_reputation_totals t JOIN bounty_hall_of_fame h "
            "ON h.researcher_id = t.researcher_id AND h.listed "
            "WHERE t.period = :period AND t.points > 0 "
            "ORDER BY t.points DESC, t.researcher_id DESC LIMIT :limit"
        )
    else:
        query = (
            "SELECT t.researcher_id, u.email AS name, t.points "
            "FROM (SELECT researcher_id, points FROM bounty_reputation_totals "
            "WHERE period = :period ORDER BY points DESC, researcher_id DESC LIMIT :limit) t "
            "JOIN users u ON u.id = t.researcher_id ORDER BY t.points DESC, t.researcher_id DESC"
        )
    rows = await session.execute(text(query), {"period": check_period(period), "limit": limit})
    leaders: list[Leader] = []
    for position, row in enumerate(rows.all()):
        tied = leaders and leaders[-1].points == row.points
        rank = leaders[-1].rank if tied else position + 1
        leaders.append(
            Leader(rank=rank, researcher_id=row.researcher_id, name=row.name, points=row.points)
        )
    return leaders


async def name_publicly(
    session: AsyncSession, *, researcher_id: int, public_name: str, listed: bool, now: datetime
) -> BountyHallOfFame:
    """The researcher's consent to the hall of fame, under the name they chose (``listed``
    False: taken off it)."""
    name = " ".join(public_name.split())
    if not 1 <= len(name) <= 100:
        raise Invalid("public_name: 1 to 100 characters")
    entry = await session.get(BountyHallOfFame, researcher_id)
    if entry is None:
        entry = BountyHallOfFame(researcher_id=researcher_id)
        session.add(entry)
    entry.public_name, entry.listed, entry.updated_at = name, listed, now
    await session.flush()
    return entry
