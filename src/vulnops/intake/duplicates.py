"""Duplicate candidates for a report: earlier reports and cases ranked by likeness.

Candidates come from three indexed lookups — nearest titles (trigram GiST, KNN), shared words
(full-text GIN over title, endpoint and description) and the same service and endpoint — and are
then scored; the same service and endpoint weigh more than words in common.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases.similar import similar_cases
from vulnops.intake.models import Report
from vulnops.intake.schemas import Candidate

_WORDS = text(
    """
    SELECT coalesce(string_agg(quote_literal(lexeme), ' | '), '')
    FROM unnest(tsvector_to_array(to_tsvector('english', :text))) AS lexeme
    """
)

_REPORTS = text(
    """
    WITH t AS (SELECT id, title, service, endpoint, received_at FROM reports WHERE id = :id),
    q AS (SELECT CAST(:words AS tsquery) AS query),
    candidates AS (
        (SELECT r.id FROM reports r, t
         WHERE r.id <> t.id AND r.received_at <= t.received_at
         ORDER BY r.title <-> t.title LIMIT 30)
        UNION
        (SELECT r.id FROM reports r, t, q
         WHERE r.id <> t.id AND r.received_at <= t.received_at AND r.search @@ q.query
         ORDER BY ts_rank_cd(r.search, q.query) DESC LIMIT 30)
        UNION
        (SELECT r.id FROM reports r, t
         WHERE r.id <> t.id AND r.received_at <= t.received_at
           AND r.service = t.service AND r.endpoint = t.endpoint
         ORDER BY r.received_at DESC LIMIT 30)
    )
    SELECT r.id, r.tracking_id, r.title, r.state,
           similarity(r.title, t.title) AS title_similarity,
           ts_rank_cd(r.search, q.query) AS text_rank,
           (t.service IS NOT NULL AND r.service = t.service) AS same_service,
           (t.endpoint IS NOT NULL AND r.endpoint = t.endpoint) AS same_endpoint,
           similarity(coalesce(r.endpoint, ''), coalesce(t.endpoint, '')) AS endpoint_similarity
    FROM reports r JOIN candidates USING (id), t, q
    """
)


def _text_score(rank: float) -> float:
    return rank / (rank + 0.1) if rank else 0.0


async def candidates(session: AsyncSession, *, report: Report, limit: int = 10) -> list[Candidate]:
    words = await session.scalar(
        _WORDS, {"text": " ".join(filter(None, [report.title, report.endpoint]))}
    )
    ranked: list[Candidate] = []
    rows = (await session.execute(_REPORTS, {"id": report.id, "words": words or "''"})).all()
    for row in rows:
        endpoint = 1.0 if row.same_endpoint else 0.5 * row.endpoint_similarity
        score = (
            0.40 * row.title_similarity
            + 0.15 * _text_score(row.text_rank)
            + 0.20 * row.same_service
            + 0.25 * endpoint
        )
        reasons = [f"title {round(row.title_similarity * 100)}% alike"]
        if row.same_service:
            reasons.append("same service")
        if row.same_endpoint:
            reasons.append("same endpoint")
        if row.text_rank:
            reasons.append("shares words")
        ranked.append(
            Candidate(
                kind="report",
                id=row.id,
                tracking_id=row.tracking_id,
                title=row.title,
                state=row.state,
                score=round(score, 3),
                reasons=reasons,
            )
        )
    for case, score, reasons in await similar_cases(
        session, title=report.title, service=report.service, words=words or "''", limit=limit
    ):
        ranked.append(
            Candidate(
                kind="case",
                id=case.id,
                tracking_id=case.tracking_id,
                title=case.title,
                state=case.state,
                score=score,
                reasons=reasons,
            )
        )
    ranked.sort(key=lambda candidate: candidate.score, reverse=True)
    return ranked[:limit]
