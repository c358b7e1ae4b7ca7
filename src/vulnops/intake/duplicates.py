"""Duplicate candidates for a report: earlier reports and cases ranked by likeness.

Candidates come from three indexed lookups — nearest titles (trigram GiST, KNN), shared words
(full-text GIN over title, endpoint and description) and the same service and endpoint — and are
then scored; the same service and endpoint weigh more than words in common.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.models import User
from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.cases.models import Case
from vulnops.cases.similar import similar_cases
from vulnops.intake.models import Report
from vulnops.intake.schemas import Candidate

# The title's words, as a query that needs all of them (to find candidates through the index)
# and as one that needs any (to score the few candidates found).
_WORDS = text(
    """
    SELECT coalesce(string_agg(quote_literal(lexeme), ' & '), '') AS every_word,
           coalesce(string_agg(quote_literal(lexeme), ' | '), '') AS any_word
    FROM unnest(tsvector_to_array(to_tsvector('english', :text))) AS lexeme
    """
)

# The report's own values come in as parameters (not from a joined row): only then can the
# planner walk the trigram index in distance order (KNN) instead of sorting every earlier report.
# Nearest titles are looked for within the same service (a global trigram KNN costs ~60 ms at
# 100k reports); other services' duplicates are found through shared words.
_REPORTS_SQL = """
    WITH q AS (SELECT CAST(:any_word AS tsquery) AS query),
    candidates AS (
        (SELECT r.id FROM reports r
         WHERE r.id <> :id AND r.received_at <= :received_at AND {same_service}
         ORDER BY r.title <-> CAST(:title AS varchar) LIMIT 30)
        UNION
        (SELECT r.id FROM reports r
         WHERE r.id <> :id AND r.received_at <= :received_at
           AND r.search @@ CAST(:every_word AS tsquery)
         ORDER BY ts_rank_cd(r.search, CAST(:every_word AS tsquery)) DESC LIMIT 30)
        UNION
        (SELECT r.id FROM reports r
         WHERE r.id <> :id AND r.received_at <= :received_at
           AND r.service = CAST(:service AS varchar) AND r.endpoint = CAST(:endpoint AS varchar)
         ORDER BY r.received_at DESC LIMIT 30)
    )
    SELECT r.id, r.tracking_id, r.title, r.state, r.case_id,
           similarity(r.title, CAST(:title AS varchar)) AS title_similarity,
           ts_rank_cd(r.search, q.query) AS text_rank,
           coalesce(r.service = CAST(:service AS varchar), false) AS same_service,
           coalesce(r.endpoint = CAST(:endpoint AS varchar), false) AS same_endpoint,
           similarity(coalesce(r.endpoint, ''), coalesce(CAST(:endpoint AS varchar), ''))
               AS endpoint_similarity
    FROM reports r JOIN candidates USING (id), q
    """
_REPORTS = {
    True: text(_REPORTS_SQL.replace("{same_service}", "r.service = CAST(:service AS varchar)")),
    False: text(_REPORTS_SQL.replace("{same_service}", "r.service IS NULL")),
}


# Below this a candidate has nothing real in common with the report (a stray trigram or two).
MIN_SCORE = 0.1


def _text_score(rank: float) -> float:
    return rank / (rank + 0.1) if rank else 0.0


async def candidates(
    session: AsyncSession, *, report: Report, viewer: Principal, limit: int = 10
) -> list[Candidate]:
    """Earlier reports and cases like ``report``, most alike first. A restricted case the viewer
    is not on the team of (or a report of it) is named only as that: a restricted case matched,
    and who owns it, so they can ask; nothing of its content."""
    words = (await session.execute(_WORDS, {"text": report.title})).one()
    # A title without a word (only symbols or stop words) is an empty query: it matches nothing.
    every_word, any_word = words.every_word, words.any_word
    ranked: list[Candidate] = []
    rows = (
        await session.execute(
            _REPORTS[report.service is not None],
            {
                "id": report.id,
                "received_at": report.received_at,
                "title": report.title,
                "service": report.service,
                "endpoint": report.endpoint,
                "every_word": every_word,
                "any_word": any_word,
            },
        )
    ).all()
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
                case_id=row.case_id,
                id=row.id,
                tracking_id=row.tracking_id,
                title=row.title,
                state=row.state,
                score=round(score, 3),
                reasons=reasons,
            )
        )
    for case, score, reasons in await similar_cases(
        session,
        title=report.title,
        service=report.service,
        every_word=every_word,
        any_word=any_word,
        limit=limit,
    ):
        ranked.append(
            Candidate(
                kind="case",
                case_id=case.id,
                id=case.id,
                tracking_id=case.tracking_id,
                title=case.title,
                state=case.state,
                score=score,
                reasons=reasons,
            )
        )
    ranked.sort(key=lambda candidate: candidate.score, reverse=True)
    shown = [candidate for candidate in ranked if candidate.score >= MIN_SCORE][:limit]
    return await _without_restricted(session, shown, viewer=viewer)


async def _without_restricted(
    session: AsyncSession, shown: list[Candidate], *, viewer: Principal
) -> list[Candidate]:
    hidden_query = access.hidden_case_ids(viewer)
    ids = {c.case_id for c in shown if c.case_id is not None}
    if hidden_query is None or not ids:
        return shown
    hidden = set(await session.scalars(hidden_query.where(Case.id.in_(ids))))
    if not hidden:
        return shown
    owners = dict(
        (
            await session.execute(
                select(Case.id, func.coalesce(func.nullif(User.display_name, ""), User.email))
                .outerjoin(User, User.id == Case.owner_id)
                .where(Case.id.in_(hidden))
            )
        ).all()
    )
    result: list[Candidate] = []
    named: set[int] = set()
    for candidate in shown:
        case_id = candidate.case_id
        if case_id not in hidden:
            result.append(candidate)
        elif case_id not in named:
            named.add(case_id)
            owner = owners.get(case_id) or "nobody yet"
            result.append(
                Candidate(
                    kind="restricted",
                    id=0,
                    tracking_id="",
                    title=f"A restricted case matched; its owner is {owner}",
                    state="",
                    score=candidate.score,
                    reasons=["restricted: only its team sees it"],
                    restricted_owner=owner,
                )
            )
    return result
