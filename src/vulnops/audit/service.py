"""Append events and verify the chain.

The hash is computed by the database (``audit_event_hash``, created by the first migration) over
``jsonb``'s canonical text, so what is hashed is exactly what is stored. An event is recorded in
``audit_pending`` and chained when its transaction commits, by a constraint trigger deferred to
the commit (migration 0018): that locks the single head row only for the commit itself, not
from the append until the client gets round to committing — under load, every writer waited for
that. Events are totally ordered (in commit order), numbered without gaps, and an event commits
or rolls back with the change it records; ``occurred_at`` is when it entered the chain.

A transaction that reads the log after recording events chains them first (the reads below do),
so it sees its own events; from then on it holds the head until it ends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit.models import AuditChainHead, AuditEvent
from vulnops.audit.schemas import ChainProblem, VerifyResult
from vulnops.db.pagination import Page, paginate_scalars

SYSTEM_ACTOR = "system"

_APPEND = text(
    "INSERT INTO audit_pending (subject, kind, actor, data) "
    "VALUES (:subject, :kind, :actor, CAST(:data AS jsonb))"
)
# Chain the events this transaction recorded now (the deferred trigger fires for those queued),
# and defer the chaining of any it records later again.
_CHAIN_NOW = text("SET CONSTRAINTS audit_pending_chained IMMEDIATE")
_CHAIN_AT_COMMIT = text("SET CONSTRAINTS audit_pending_chained DEFERRED")
# session.info key: this session recorded events that its open transaction has not chained.
_UNCHAINED = "audit_unchained"

_FIRST_PROBLEM = text(
    """
    WITH chain AS (
        SELECT seq, hash, prev_hash,
               audit_event_hash(prev_hash, seq, subject, kind, actor, data, occurred_at)
                   AS computed,
               lag(seq) OVER w AS lag_seq,
               lag(hash) OVER w AS lag_hash
        FROM audit_events
        WINDOW w AS (ORDER BY seq)
    ), judged AS (
        SELECT seq, lag_seq, CASE
            WHEN computed <> hash THEN 'changed'
            WHEN seq <> coalesce(lag_seq, 0) + 1 THEN 'deleted'
            WHEN prev_hash <> coalesce(lag_hash, '') THEN 'broken_link'
        END AS kind
        FROM chain
    )
    SELECT seq, lag_seq, kind FROM judged WHERE kind IS NOT NULL ORDER BY seq LIMIT 1
    """
)


async def record(
    session: AsyncSession,
    *,
    subject: str,
    kind: str,
    actor: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Record one event in the session's transaction; it is numbered when that commits."""
    payload = json.dumps(dict(data or {}), default=str)
    await session.execute(
        _APPEND, {"subject": subject, "kind": kind, "actor": actor, "data": payload}
    )
    session.info[_UNCHAINED] = True


async def _chain_recorded(session: AsyncSession) -> None:
    """Before a read: chain what this session's transaction recorded, so the read sees it."""
    if session.info.pop(_UNCHAINED, False):
        await session.execute(_CHAIN_NOW)
        await session.execute(_CHAIN_AT_COMMIT)


async def list_events(
    session: AsyncSession,
    *,
    subject: str | None = None,
    subject_prefix: str | None = None,
    kind: str | None = None,
    kinds: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
    actor: str | None = None,
    exclude_subjects: Select[Any] | None = None,
    page: int = 1,
    per_page: int = 50,
    oldest_first: bool = False,
) -> Page[AuditEvent]:
    """``exclude_subjects``: a query of subjects left out (what the reader may not know of)."""
    await _chain_recorded(session)
    stmt = select(AuditEvent)
    if exclude_subjects is not None:
        stmt = stmt.where(AuditEvent.subject.not_in(exclude_subjects))
    if subject is not None:
        stmt = stmt.where(AuditEvent.subject == subject)
    if subject_prefix is not None:
        stmt = stmt.where(AuditEvent.subject.startswith(subject_prefix, autoescape=True))
    if kind is not None:
        stmt = stmt.where(AuditEvent.kind == kind)
    if kinds is not None:
        stmt = stmt.where(AuditEvent.kind.in_(kinds))
    if subjects is not None:
        stmt = stmt.where(AuditEvent.subject.in_(subjects))
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    order = AuditEvent.seq.asc() if oldest_first else AuditEvent.seq.desc()
    return await paginate_scalars(session, stmt.order_by(order), page=page, per_page=per_page)


async def events_for(
    session: AsyncSession, *, subject: str, kinds: Sequence[str], limit: int = 500
) -> list[AuditEvent]:
    """A subject's events of some kinds, oldest first, without counting them (for histories)."""
    await _chain_recorded(session)
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject == subject, AuditEvent.kind.in_(kinds))
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return list(rows)


async def verify(session: AsyncSession) -> VerifyResult:
    """Walk the whole chain in one query and report the first changed, inserted or lost event."""
    await _chain_recorded(session)
    head = await session.get(AuditChainHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "")
    stats = (
        await session.execute(
            text(
                "SELECT count(*), max(seq), "
                "(SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) FROM audit_events"
            )
        )
    ).one()
    checked, last_seq, last_hash = int(stats[0]), stats[1] or 0, stats[2] or ""
    row = (await session.execute(_FIRST_PROBLEM)).one_or_none()
    problem: ChainProblem | None = None
    if row is not None:
        problem = _describe(seq=row.seq, previous=row.lag_seq, kind=row.kind)
    elif last_seq < head_seq:
        problem = ChainProblem(
            seq=last_seq + 1,
            kind="truncated",
            message=f"events {last_seq + 1}..{head_seq} were deleted: the log ends at "
            f"{last_seq} but {head_seq} events were written",
        )
    elif last_seq > head_seq:
        problem = ChainProblem(
            seq=head_seq + 1,
            kind="appended",
            message=f"event {head_seq + 1} was inserted after the recorded end of the log "
            f"({head_seq})",
        )
    elif last_hash != head_hash:
        problem = ChainProblem(
            seq=last_seq,
            kind="changed",
            message=f"event {last_seq} was replaced: its hash differs from the recorded head",
        )
    return VerifyResult(
        ok=problem is None, events_checked=checked, head_seq=head_seq, problem=problem
    )


def _describe(*, seq: int, previous: int | None, kind: str) -> ChainProblem:
    if kind == "changed":
        message = f"event {seq} was changed: its content no longer matches its hash"
    elif kind == "deleted":
        first_missing = (previous or 0) + 1
        message = (
            f"event {first_missing} was deleted"
            if first_missing == seq - 1
            else f"events {first_missing}..{seq - 1} were deleted"
        ) + f": the chain jumps from {previous or 'the start'} to {seq}"
        seq = first_missing
    else:
        message = (
            f"event {seq} does not follow event {previous}: one of them was inserted or "
            "replaced with a recomputed hash"
        )
    return ChainProblem(seq=seq, kind=kind, message=message)
