"""What raises a page (the rules of :mod:`vulnops.oncall_config`), each paging the on-call of
the case's services' escalation policy (else the default):

- a case rated critical or important, or whose SSVC decision is Act — once per case;
- a case's deadline 75% through its time with its milestone not reached — once per case and
  milestone (a periodic sweep, between that point and the deadline);
- a rollout that needs a person (a stage failed or holds, or held past its max_hold, the
  rollout halted, a unit that could not be rolled back) — one open page per rollout and kind;
- deliveries of an advisory that died — one open page per advisory;
- a customer's question about an advisory past its answer time, for the ratings that page
  (:mod:`vulnops.customers_config`) — once per question (a periodic sweep).

A need-to-know case's page names its tracking id only: pages are read by every on-call reader.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.cases.milestones import CaseAssessed, CaseChanged
from vulnops.fleet.models import Service
from vulnops.notify.events import DeliveriesDied
from vulnops.notify.models import Advisory
from vulnops.oncall import paging
from vulnops.oncall.models import Page
from vulnops.rollout.events import RolloutNeedsAttention
from vulnops.settings import Settings

# At most this many deadline pages a sweep (the next sweep, a minute later, takes the rest).
DEADLINE_PAGES_PER_SWEEP = 200


def case_key(case_id: int) -> str:
    return f"case:{case_id}"


async def page_case(
    session: AsyncSession, event: CaseChanged | CaseAssessed, settings: Settings
) -> None:
    """Listener of :class:`CaseChanged` and :class:`CaseAssessed`: a case that now meets a rule
    and never paged, pages (a finished one does not)."""
    case = await cases.get_case(session, case_id=event.case_id)
    rated = case.rating in settings.page_ratings
    act = settings.page_on_act and (case.ssvc_decision or "").lower() == "act"
    if not (rated or act) or case.state in ("closed", "disclosed"):
        return
    key = case_key(case.id)
    if await session.scalar(select(Page.id).where(Page.dedup_key == key).limit(1)) is not None:
        return  # paged once already
    why = f"rated {case.rating}" if rated else "its SSVC decision is Act"
    await paging.raise_page(
        session,
        dedup_key=key,
        title=f"{case.tracking_id} is {why}: {case.title}"
        if not case.restricted
        else f"{case.tracking_id} is {why} (a need-to-know case)",
        details=f"Open the case: {settings.public_url.rstrip('/')}/cases/{case.id}",
        urgency=paging.urgency_of(case.rating) if rated else "high",
        source="case",
        services=list(case.services),
        actor="system",
        now=datetime.now(UTC),
        settings=settings,
        case_id=case.id,
    )


def _url(settings: Settings, path: str) -> str:
    return f"{settings.public_url.rstrip('/')}{path}"


async def page_rollout(
    session: AsyncSession, event: RolloutNeedsAttention, settings: Settings
) -> None:
    """Listener of :class:`RolloutNeedsAttention`: page, unless this rollout's page is open."""
    if not settings.page_on_rollouts:
        return
    # One open page per rollout and kind of trouble: a page acknowledged for a holding stage
    # does not hide the stage failing later; past max_hold a stage pages again, a page of its own.
    key = f"rollout:{event.rollout_id}:{event.kind}"
    if event.kind == "hold_expired":
        key += f":stage:{event.stage}"
    if await session.scalar(
        select(Page.id).where(Page.dedup_key == key, Page.status != "resolved")
    ):
        return
    case = await cases.get_case(session, case_id=event.case_id)
    service = await session.scalar(select(Service.key).where(Service.id == event.service_id))
    stage = f" (stage {event.stage + 1})" if event.stage is not None else ""
    # The reason names the stage and the evidence; a need-to-know case's page leaves it out.
    why = f"{stage} needs a person" if case.restricted else f" needs a person: {event.reason}"
    await paging.raise_page(
        session,
        dedup_key=key,
        title=f"{case.tracking_id}: the rollout of the fix to {service}{why}",
        details=f"Open the rollout: {_url(settings, f'/rollouts/{event.rollout_id}')}",
        urgency="high",
        source="rollout",
        services=[service] if service else [],
        actor="system",
        now=datetime.now(UTC),
        settings=settings,
        case_id=case.id,
    )


async def page_dead_deliveries(
    session: AsyncSession, event: DeliveriesDied, settings: Settings
) -> None:
    """Listener of :class:`DeliveriesDied`: page, unless this advisory's page is open."""
    if not settings.page_on_dead_deliveries:
        return
    key = f"deliveries:{event.advisory_id}"
    if await session.scalar(
        select(Page.id).where(Page.dedup_key == key, Page.status != "resolved")
    ):
        return
    case_id = await session.scalar(select(Advisory.case_id).where(Advisory.id == event.advisory_id))
    if case_id is None:
        return
    case = await cases.get_case(session, case_id=case_id)
    count = len(event.deliveries)
    await paging.raise_page(
        session,
        dedup_key=key,
        title=f"{event.tracking_id}: {count} {event.channel} "
        f"deliver{'y' if count == 1 else 'ies'} of the advisory died",
        details="Read and resend them: "
        + _url(settings, f"/notifications/deliveries?status=dead&advisory={event.advisory_id}"),
        urgency=paging.urgency_of(case.rating),
        source="delivery",
        services=list(case.services),
        actor="system",
        now=datetime.now(UTC),
        settings=settings,
        case_id=case.id,
    )


_NEARLY_DUE = text(
    """
    SELECT c.id, c.tracking_id, c.title, c.restricted, c.rating, c.services, m.milestone, m.due
    FROM cases c
    CROSS JOIN LATERAL (VALUES
        ('acknowledge', c.acknowledged_at, c.acknowledge_due),
        ('triage', c.triaged_at, c.triage_due),
        ('mitigate', c.mitigated_at, c.mitigate_due)
    ) AS m(milestone, reached, due)
    WHERE c.next_due IS NOT NULL AND m.reached IS NULL AND m.due > :now
      AND c.started_at + (m.due - c.started_at) * :fraction <= :now
      AND NOT EXISTS (
          SELECT 1 FROM pages p WHERE p.dedup_key = 'deadline:' || c.id || ':' || m.milestone
      )
    ORDER BY m.due
    LIMIT :limit
    """
)


async def page_deadlines(session: AsyncSession, *, now: datetime, settings: Settings) -> int:
    """Page for every deadline past its warning point and not reached (the periodic sweep);
    returns how many pages it raised."""
    if settings.page_deadline_fraction <= 0:
        return 0
    rows = await session.execute(
        _NEARLY_DUE,
        {
            "now": now,
            "fraction": settings.page_deadline_fraction,
            "limit": DEADLINE_PAGES_PER_SWEEP,
        },
    )
    raised = 0
    # The case's fields come with the row: no query per case.
    for case in rows.all():
        case_id, milestone, due = case.id, case.milestone, case.due
        left = max(int((due - now).total_seconds() // 60), 0)
        await paging.raise_page(
            session,
            dedup_key=f"deadline:{case_id}:{milestone}",
            title=f"{case.tracking_id} must be {milestone}d within {left} minutes"
            + ("" if case.restricted else f": {case.title}"),
            details=f"Open the case: {_url(settings, f'/cases/{case_id}')}",
            urgency=paging.urgency_of(case.rating),
            source="deadline",
            services=list(case.services),
            actor="system",
            now=now,
            settings=settings,
            case_id=case_id,
        )
        raised += 1
    return raised


_UNANSWERED = text(
    """
    SELECT x.* FROM (
        SELECT 'question:' || v.advisory_id || ':' || v.tenant_id || ':'
                   || floor(date_part('epoch', v.waiting_since))::bigint AS dedup_key,
               v.tenant_id, v.answer_due, t.name AS tenant_name,
               c.id AS case_id, c.tracking_id, c.restricted, c.rating, c.services
        FROM advisory_conversations v
        JOIN advisories a ON a.id = v.advisory_id
        JOIN cases c ON c.id = a.case_id
        JOIN tenants t ON t.id = v.tenant_id
        WHERE v.waiting_since IS NOT NULL AND v.answer_due <= :now
          AND c.rating = ANY(CAST(:ratings AS text[]))
    ) x
    WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.dedup_key = x.dedup_key)
    ORDER BY x.answer_due
    LIMIT :limit
    """
)


async def page_unanswered_questions(
    session: AsyncSession, *, now: datetime, settings: Settings
) -> int:
    """Page for every customer's question past its answer time, about a case of a rating that
    pages (the periodic sweep; once per question); returns how many pages it raised."""
    if not settings.question_page_ratings:
        return 0
    rows = await session.execute(
        _UNANSWERED,
        {
            "now": now,
            "ratings": settings.question_page_ratings,
            "limit": DEADLINE_PAGES_PER_SWEEP,
        },
    )
    raised = 0
    for row in rows.all():
        late = max(int((now - row.answer_due).total_seconds() // 60), 0)
        who = "a customer" if row.restricted else row.tenant_name
        await paging.raise_page(
            session,
            dedup_key=row.dedup_key,
            title=f"{row.tracking_id}: {who} waits for an answer about the advisory "
            f"({late} minutes past its time)",
            details="Answer: "
            + _url(settings, f"/cases/{row.case_id}/advisory/conversations/{row.tenant_id}"),
            urgency=paging.urgency_of(row.rating),
            source="question",
            services=list(row.services),
            actor="system",
            now=now,
            settings=settings,
            case_id=row.case_id,
        )
        raised += 1
    return raised
