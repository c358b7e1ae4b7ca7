"""How the customers received a case's advisory, for its post-incident review: how many were
told, how many acknowledged and how fast, what they rated it and what they said, what they
asked and how soon they were answered (with the tenant, which the review names only to the
case's team)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.notify.service import find

COMMENTS_SHOWN = 200


@dataclass(frozen=True)
class Comment:
    tenant_id: int
    tenant: str
    rating: int
    comment: str
    given_at: datetime


@dataclass(frozen=True)
class Question:
    tenant_id: int
    tenant: str
    body: str
    asked_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class Questions:
    asked: int
    tenants: int
    answered: int
    median_hours_to_answer: float | None
    longest_hours_to_answer: float | None
    quoted: list[Question]


NO_QUESTIONS = Questions(0, 0, 0, None, None, [])


@dataclass(frozen=True)
class Reception:
    recipients: int
    acknowledged: int
    median_hours_to_acknowledge: float | None
    ratings: tuple[int, int, int, int, int]
    comments: list[Comment]
    exposed_since: datetime | None  # as the latest version sent says
    questions: Questions


_COUNTS = text(
    """
    WITH firsts AS (
        SELECT a.tenant_id, min(a.acknowledged_at - v.sent_at) AS took
        FROM advisory_acknowledgments a
        JOIN advisory_versions v ON v.id = a.version_id
        WHERE v.advisory_id = :advisory AND v.sent_at IS NOT NULL
        GROUP BY a.tenant_id
    )
    SELECT (SELECT count(*) FROM advisory_recipients WHERE advisory_id = :advisory) AS recipients,
           (SELECT count(*) FROM firsts) AS acknowledged,
           (SELECT percentile_cont(0.5) WITHIN GROUP (
                ORDER BY greatest(extract(epoch FROM took), 0) / 3600.0) FROM firsts) AS median,
           (SELECT exposed_since FROM advisory_versions
             WHERE advisory_id = :advisory AND sent_at IS NOT NULL
             ORDER BY number DESC LIMIT 1) AS exposed_since
    """
)
_RATINGS = text(
    "SELECT rating, count(*) AS n FROM advisory_feedback WHERE advisory_id = :advisory "
    "GROUP BY rating"
)
_COMMENTS = text(
    "SELECT f.tenant_id, t.name AS tenant, f.rating, f.comment, f.given_at "
    "FROM advisory_feedback f JOIN tenants t ON t.id = f.tenant_id "
    "WHERE f.advisory_id = :advisory AND f.comment <> '' "
    "ORDER BY f.given_at DESC LIMIT :limit"
)

# Each message of a tenant, answered by the team's first message after it in that tenant's
# conversation (one probe of the thread's index per question, for one advisory).
_ASKED = """
WITH asked AS (
    SELECT q.tenant_id, q.body, q.created_at AS asked_at,
           (SELECT min(a.created_at) FROM advisory_messages a
             WHERE a.advisory_id = q.advisory_id AND a.tenant_id = q.tenant_id
               AND a.from_staff AND a.id > q.id) AS answered_at
    FROM advisory_messages q
    WHERE q.advisory_id = :advisory AND NOT q.from_staff
)
"""
_QUESTION_COUNTS = text(
    _ASKED  # noqa: S608 - constant SQL
    + """
    SELECT count(*) AS asked, count(DISTINCT tenant_id) AS tenants,
           count(answered_at) AS answered,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY date_part('epoch', answered_at - asked_at) / 3600.0) AS median,
           max(date_part('epoch', answered_at - asked_at) / 3600.0) AS longest
    FROM asked
    """
)
_QUOTED = text(
    _ASKED  # noqa: S608 - constant SQL
    + """
    SELECT x.tenant_id, t.name AS tenant, x.body, x.asked_at, x.answered_at
    FROM asked x JOIN tenants t ON t.id = x.tenant_id
    ORDER BY x.asked_at DESC LIMIT :limit
    """
)


async def _questions(session: AsyncSession, params: dict[str, int]) -> Questions:
    counts = (await session.execute(_QUESTION_COUNTS, params)).one()
    if not counts.asked:
        return NO_QUESTIONS
    return Questions(
        asked=int(counts.asked),
        tenants=int(counts.tenants),
        answered=int(counts.answered),
        median_hours_to_answer=float(counts.median) if counts.median is not None else None,
        longest_hours_to_answer=float(counts.longest) if counts.longest is not None else None,
        quoted=[Question(**row._mapping) for row in await session.execute(_QUOTED, params)],
    )


async def reception(session: AsyncSession, *, case_id: int) -> Reception:
    advisory = await find(session, case_id=case_id)
    if advisory is None:
        return Reception(0, 0, None, (0, 0, 0, 0, 0), [], None, NO_QUESTIONS)
    params = {"advisory": advisory.id, "limit": COMMENTS_SHOWN}
    counts = (await session.execute(_COUNTS, params)).one()
    by_rating = {row.rating: row.n for row in await session.execute(_RATINGS, params)}
    comments = [Comment(**row._mapping) for row in await session.execute(_COMMENTS, params)]
    return Reception(
        recipients=int(counts.recipients),
        acknowledged=int(counts.acknowledged),
        median_hours_to_acknowledge=(float(counts.median) if counts.median is not None else None),
        ratings=(
            by_rating.get(1, 0),
            by_rating.get(2, 0),
            by_rating.get(3, 0),
            by_rating.get(4, 0),
            by_rating.get(5, 0),
        ),
        comments=comments,
        exposed_since=counts.exposed_since,
        questions=await _questions(session, params),
    )
