"""A programme's responsiveness, shown to researchers on its page as the anchors do: how long
its reports waited for a first response, for triage, for the award and for the money.

Every duration runs from the report's receipt (one start for all four, so no two readers
disagree where one begins) over the researchers' reports of the last year in the programme's
scope:

- first response: the team's first message or first change of the report's state;
- triage: the report first triaged (or accepted into a case, which triages it);
- award: its award granted (approved);
- paid: the first payout paid to its researcher after the award was granted.

One query: each report's milestones are found by index (the event log by subject, the ledger
by researcher), the percentiles by PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.bounty.models import BountyProgram
from vulnops.bounty.programs import Scope

WINDOW = timedelta(days=365)
MILESTONES = ("first_response", "triage", "award", "paid")

_QUERY = text(
    """
WITH scoped AS (
    SELECT r.id, r.received_at, r.reporter_id FROM reports r
    WHERE r.source = 'researcher' AND r.received_at >= :since
      AND (cardinality(CAST(:services AS text[])) = 0 OR r.service = ANY(:services))
), milestones AS (
    SELECT s.received_at,
        (SELECT min(e.occurred_at) FROM audit_events e
         WHERE e.subject = 'report:' || s.id AND (e.kind = 'report.state_changed'
            OR (e.kind = 'report.message' AND e.data->>'from_staff' = 'true'))) AS first_response,
        (SELECT min(e.occurred_at) FROM audit_events e
         WHERE e.subject = 'report:' || s.id AND e.kind = 'report.state_changed'
           AND e.data->>'to' IN ('triaged', 'accepted')) AS triage,
        a.decided_at AS award,
        (SELECT min(p.created_at) FROM bounty_ledger_entries p
         WHERE p.researcher_id = s.reporter_id AND p.kind = 'paid' AND p.line = 0
           AND p.created_at >= a.decided_at) AS paid
    FROM scoped s
    LEFT JOIN bounty_awards a
           ON a.report_id = s.id AND a.status = 'approved' AND a.program = :program
)
SELECT m.name, count(m.hours) AS reports,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY m.hours) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY m.hours) AS p90
FROM milestones,
     LATERAL (VALUES
        ('first_response', extract(epoch FROM first_response - received_at) / 3600),
        ('triage', extract(epoch FROM triage - received_at) / 3600),
        ('award', extract(epoch FROM award - received_at) / 3600),
        ('paid', extract(epoch FROM paid - received_at) / 3600)) AS m(name, hours)
GROUP BY m.name
"""
)


class Milestone(BaseModel):
    name: str
    reports: int  # how many reached it
    median_hours: float | None
    p90_hours: float | None


async def responsiveness(
    session: AsyncSession, *, program: BountyProgram, now: datetime
) -> list[Milestone]:
    scope = Scope.model_validate(program.scope)
    rows = await session.execute(
        _QUERY,
        {
            "since": max(now - WINDOW, program.starts_at),
            "services": list(scope.services),
            "program": program.key,
        },
    )
    found = {row.name: row for row in rows.all()}
    return [
        Milestone(
            name=name,
            reports=int(found[name].reports) if name in found else 0,
            median_hours=found[name].median if name in found else None,
            p90_hours=found[name].p90 if name in found else None,
        )
        for name in MILESTONES
    ]
