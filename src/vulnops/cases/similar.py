"""Cases that look like a new report: the case half of duplicate detection."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases.models import Case


async def similar_cases(
    session: AsyncSession,
    *,
    title: str,
    service: str | None,
    every_word: str,
    any_word: str,
    limit: int = 10,
) -> list[tuple[Case, float, list[str]]]:
    """Cases that look like a report: close titles, the same service, shared words."""
    stmt = text(
        """
        WITH p AS (
            SELECT CAST(:title AS text) AS title, CAST(:service AS varchar) AS service,
                   CAST(:any_word AS tsquery) AS query
        ),
        candidates AS (
            (SELECT c.id FROM cases c ORDER BY c.title <-> CAST(:title AS varchar) LIMIT 30)
            UNION
            (SELECT c.id FROM cases c WHERE c.search @@ CAST(:every_word AS tsquery)
             ORDER BY ts_rank_cd(c.search, CAST(:every_word AS tsquery)) DESC LIMIT 30)
            UNION
            (SELECT c.id FROM cases c
             WHERE c.services @> ARRAY[CAST(:service AS varchar)]
             ORDER BY c.opened_at DESC LIMIT 30)
        )
        SELECT c.id,
               similarity(c.title, p.title) AS title_similarity,
               ts_rank_cd(c.search, p.query) AS text_rank,
               coalesce(c.services @> ARRAY[p.service], false) AS same_service
        FROM cases c JOIN candidates USING (id), p
        """
    )
    rows = (
        await session.execute(
            stmt,
            {"title": title, "service": service, "every_word": every_word, "any_word": any_word},
        )
    ).all()
    scored = []
    for row in rows:
        text_score = row.text_rank / (row.text_rank + 0.1) if row.text_rank else 0.0
        score = 0.55 * row.title_similarity + 0.25 * text_score + 0.2 * row.same_service
        reasons = [f"title {round(row.title_similarity * 100)}% alike"]
        if row.same_service:
            reasons.append("same service")
        if row.text_rank:
            reasons.append("shares words")
        scored.append((row.id, round(score, 3), reasons))
    scored.sort(key=lambda item: item[1], reverse=True)
    top = scored[:limit]
    cases = {
        case.id: case
        for case in await session.scalars(select(Case).where(Case.id.in_([t[0] for t in top])))
    }
    return [(cases[case_id], score, reasons) for case_id, score, reasons in top]
