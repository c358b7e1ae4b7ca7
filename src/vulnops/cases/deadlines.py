"""A case's deadlines: when each must be met (from its rating and the SLA policy), and the
periodic sweep that records each deadline passed unmet, once."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.cases import sla
from vulnops.cases.models import Case
from vulnops.cases.severity import Rating
from vulnops.cases.states import Milestone

# The milestones with a deadline: the SLA policy's name for it, and the case's columns of the
# milestone's time and of its due date (the generated ``next_due`` and the overdue filter read
# them).
DEADLINES: dict[Milestone, tuple[sla.Deadline, str, str]] = {
    Milestone.ACKNOWLEDGED: (sla.Deadline.ACKNOWLEDGE, "acknowledged_at", "acknowledge_due"),
    Milestone.TRIAGED: (sla.Deadline.TRIAGE, "triaged_at", "triage_due"),
    Milestone.MITIGATED: (sla.Deadline.MITIGATE, "mitigated_at", "mitigate_due"),
}


@lru_cache(maxsize=4)
def sla_policy(path: Path | None) -> sla.SlaPolicy:
    return sla.load_policy(path)


def apply(case: Case, policy: sla.SlaPolicy) -> None:
    """Set the case's due dates from its rating, counted from when its clock started."""
    due = policy.deadlines(Rating(case.rating) if case.rating else None, case.started_at)
    for deadline, _, due_column in DEADLINES.values():
        setattr(case, due_column, due.get(deadline))


_BREACHES = text(
    """
    WITH due AS (
        SELECT id, array_remove(ARRAY[
            CASE WHEN acknowledged_at IS NULL AND acknowledge_due <= :now
                 AND NOT 'acknowledge' = ANY(breaches_recorded) THEN 'acknowledge' END,
            CASE WHEN triaged_at IS NULL AND triage_due <= :now
                 AND NOT 'triage' = ANY(breaches_recorded) THEN 'triage' END,
            CASE WHEN mitigated_at IS NULL AND mitigate_due <= :now
                 AND NOT 'mitigate' = ANY(breaches_recorded) THEN 'mitigate' END
        ]::varchar[], NULL) AS newly
        FROM cases
        WHERE next_due <= :now
        FOR UPDATE
    )
    UPDATE cases SET breaches_recorded = cases.breaches_recorded || due.newly
    FROM due
    WHERE cases.id = due.id AND cardinality(due.newly) > 0
    RETURNING cases.id, due.newly,
              cases.acknowledge_due, cases.triage_due, cases.mitigate_due
    """
)


async def record_sla_breaches(session: AsyncSession, *, now: datetime) -> int:
    """Record, once each, every deadline that passed unmet (the periodic job calls this)."""
    rows = (await session.execute(_BREACHES, {"now": now})).all()
    recorded = 0
    for row in rows:
        dues = {
            "acknowledge": row.acknowledge_due,
            "triage": row.triage_due,
            "mitigate": row.mitigate_due,
        }
        for milestone in row.newly:
            await audit.record(
                session,
                subject=f"case:{row.id}",
                kind="case.sla_breached",
                actor=audit.SYSTEM_ACTOR,
                data={"milestone": milestone, "due": dues[milestone]},
            )
            recorded += 1
    return recorded
