"""Withdrawing a sent advisory: it was sent in error (the wrong audience, a case that was not
one). The tenants keep reading it, marked withdrawn with the reason; nothing more is sent (its
undelivered messages are cancelled, no reminder follows), no version is written, and its
conversations close: a question or an answer after that is refused saying why, and a question
still waiting no longer counts against the team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.cases import service as cases
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.notify.models import Advisory


def refuse_if_withdrawn(advisory: Advisory, doing: str) -> None:
    """409 for ``doing`` (a question, an answer, a new version …) on a withdrawn advisory."""
    if advisory.withdrawn_at is not None:
        raise Conflict(
            f"advisory {advisory.id} was withdrawn on {advisory.withdrawn_at:%Y-%m-%d} "
            f"({advisory.withdrawn_reason}): {doing} is closed"
        )


async def withdraw(
    session: AsyncSession, *, case_id: int, reason: str, actor: str, now: datetime
) -> tuple[Advisory, int]:
    """Withdraw the case's sent advisory; returns it and how many undelivered messages were
    cancelled."""
    reason = reason.strip()
    if len(reason) < 3:
        raise Invalid("reason: say why the advisory is withdrawn", field="reason")
    advisory = await session.scalar(
        select(Advisory).where(Advisory.case_id == case_id).with_for_update()
    )
    if advisory is None:
        raise NotFound(f"case {case_id} has no advisory")
    refuse_if_withdrawn(advisory, "withdrawing it again")
    sent = await session.scalar(
        text("SELECT count(*) FROM advisory_versions WHERE advisory_id = :id AND status = 'sent'"),
        {"id": advisory.id},
    )
    if not sent:
        raise Conflict("nothing of this advisory was sent: rewrite the draft instead")
    advisory.withdrawn_at, advisory.withdrawn_by, advisory.withdrawn_reason = now, actor, reason
    cancelled = await session.execute(
        text(
            """
            WITH gone AS (
                UPDATE deliveries d SET status = 'undeliverable', lease_until = NULL,
                    lease_token = NULL, updated_at = now(),
                    last_error = 'the advisory was withdrawn: ' || :reason
                FROM advisory_versions v
                WHERE v.id = d.version_id AND v.advisory_id = :id
                  AND d.status IN ('pending', 'retrying')
                RETURNING d.id, d.attempts
            )
            INSERT INTO delivery_events (delivery_id, status, attempt, detail, actor)
            SELECT id, 'undeliverable', attempts, 'the advisory was withdrawn', :actor FROM gone
            """
        ),
        {"id": advisory.id, "reason": reason[:500], "actor": actor},
    )
    await session.execute(
        text(
            "UPDATE advisory_conversations SET waiting_since = NULL, answer_due = NULL "
            "WHERE advisory_id = :id AND waiting_since IS NOT NULL"
        ),
        {"id": advisory.id},
    )
    count = int(cancelled.rowcount)  # type: ignore[attr-defined]
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.withdrawn",
        actor=actor,
        data={"advisory": advisory.id, "reason": reason, "cancelled": count},
    )
    return advisory, count
