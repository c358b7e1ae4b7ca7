"""Use cases for cases: open, assign, assess, a person's lifecycle decisions, find. Callers
commit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, UnaryExpression, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops import events as domain_events
from vulnops.audit import service as audit
from vulnops.audit.models import AuditEvent
from vulnops.auth import service as users
from vulnops.auth.principal import Principal
from vulnops.auth.roles import STAFF_ROLES
from vulnops.cases import access, deadlines, milestones, sla, team
from vulnops.cases.assessment import Assessment, AssessmentInput, assess
from vulnops.cases.models import Case
from vulnops.cases.severity import Rating
from vulnops.cases.states import FINISHED, CaseState, Milestone, hand_move, reopen
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.settings import Settings

# A search for a tracking number looks it up; anything else searches the words.
TRACKING_ID = re.compile(r"^CASE-\d{4}-\d{1,9}$", re.IGNORECASE)
SORTS: dict[str, UnaryExpression[Any]] = {
    "opened": Case.opened_at.desc(),
    "-opened": Case.opened_at.asc(),
    "due": Case.next_due.asc().nulls_last(),
    "updated": Case.updated_at.desc(),
}


def subject(case: Case | int) -> str:
    return f"case:{case if isinstance(case, int) else case.id}"


def normalize_services(services: Sequence[str]) -> list[str]:
    cleaned = sorted({name.strip().lower() for name in services if name.strip()})
    too_long = [name for name in cleaned if len(name) > 100]
    if too_long:
        raise Invalid(f"service names are at most 100 characters: {too_long[0][:40]}…")
    return cleaned


async def _check_user(session: AsyncSession, user_id: int | None, *, field: str) -> None:
    if user_id is None:
        return
    try:
        user = await users.get_user(session, user_id=user_id)
    except NotFound:
        raise Invalid(f"{field}: no user {user_id}") from None
    if user.disabled or user.role_enum not in STAFF_ROLES:
        raise Invalid(f"{field}: user {user_id} is not active staff")


async def open_case(
    session: AsyncSession,
    *,
    title: str,
    summary: str,
    services: Sequence[str],
    actor: str,
    settings: Settings,
    started_at: datetime | None = None,
    owner_id: int | None = None,
    responder_id: int | None = None,
    restricted: bool | None = None,
    cwe_id: int | None = None,
    now: datetime,
) -> Case:
    """Open a case; its deadlines (the SLA policy of ``settings``) run from ``started_at`` (the
    first report), else from now. ``restricted``: only its team sees it (None: not chosen; a
    critical rating will restrict it). ``cwe_id``: its weakness, when it is known at once (a
    variant of a case)."""
    await _check_user(session, owner_id, field="owner_id")
    await _check_user(session, responder_id, field="responder_id")
    case = Case(
        title=title.strip(),
        summary=summary,
        services=normalize_services(services),
        owner_id=owner_id,
        responder_id=responder_id,
        started_at=started_at or now,
        state=CaseState.NEW.value,
        breaches_recorded=[],
        restricted=bool(restricted),
        restriction_chosen=restricted is not None,
        cwe_id=cwe_id,
    )
    deadlines.apply(case, deadlines.sla_policy(settings.sla_policy_file))
    session.add(case)
    await session.flush()
    await audit.record(
        session,
        subject=subject(case),
        kind="case.opened",
        actor=actor,
        data={
            "tracking_id": case.tracking_id,
            "title": case.title,
            "services": case.services,
            "restricted": case.restricted,
        },
    )
    return await milestones.record(
        session,
        case_id=case.id,
        milestones=[Milestone.REPORTED],
        at=case.started_at,
        actor=actor,
        source="reports" if started_at else "case",
        settings=settings,
    )


async def get_case(session: AsyncSession, *, case_id: int) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


async def get_case_by_tracking_id(session: AsyncSession, *, tracking_id: str) -> Case:
    case = await session.scalar(select(Case).where(Case.tracking_id == tracking_id.upper()))
    if case is None:
        raise NotFound(f"no case {tracking_id}")
    return case


async def tracking_ids(session: AsyncSession, *, case_ids: set[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    rows = await session.execute(select(Case.id, Case.tracking_id).where(Case.id.in_(case_ids)))
    return dict(rows.all())


def _filtered(
    *,
    state: CaseState | None,
    rating: Rating | None,
    service: str | None,
    owner_id: int | None,
    assigned_to: int | None,
    open_only: bool,
    overdue: bool,
    search: str | None,
    now: datetime,
) -> Select[Case]:
    stmt = select(Case)
    if open_only:
        stmt = stmt.where(Case.state.not_in([s.value for s in FINISHED]))
    if assigned_to is not None:
        stmt = stmt.where(or_(Case.owner_id == assigned_to, Case.responder_id == assigned_to))
    if state is not None:
        stmt = stmt.where(Case.state == state.value)
    if rating is not None:
        stmt = stmt.where(Case.rating == rating.value)
    if service:
        stmt = stmt.where(Case.services.contains([service.strip().lower()]))
    if owner_id is not None:
        stmt = stmt.where(Case.owner_id == owner_id)
    if overdue:
        stmt = stmt.where(Case.next_due <= now)
    if search and search.strip():
        if TRACKING_ID.match(search.strip()):
            stmt = stmt.where(Case.tracking_id == search.strip().upper())
        else:
            stmt = stmt.where(
                Case.search.op("@@")(func.websearch_to_tsquery("english", search.strip()))
            )
    return stmt


async def list_cases(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    now: datetime,
    state: CaseState | None = None,
    rating: Rating | None = None,
    service: str | None = None,
    owner_id: int | None = None,
    assigned_to: int | None = None,
    open_only: bool = False,
    overdue: bool = False,
    search: str | None = None,
    sort: str = "opened",
    page: int = 1,
    per_page: int = 50,
) -> Page[Case]:
    """``viewer``: whose list (a restricted case is in it only for its team; None: the system's,
    everything); ``assigned_to``: the cases a person owns or is the responder of;
    ``open_only``: not closed or rejected."""
    if sort not in SORTS:
        raise Invalid(f"sort: one of {', '.join(SORTS)}")
    stmt = (
        _filtered(
            state=state,
            rating=rating,
            service=service,
            owner_id=owner_id,
            assigned_to=assigned_to,
            open_only=open_only,
            overdue=overdue,
            search=search,
            now=now,
        )
        .where(access.visible(viewer))
        .order_by(SORTS[sort], Case.id.desc())
    )
    return await paginate_scalars(session, stmt, page=page, per_page=per_page)


async def update_case(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    title: str | None = None,
    summary: str | None = None,
    services: Sequence[str] | None = None,
    owner_id: int | None = None,
    responder_id: int | None = None,
    reason: str | None = None,
) -> Case:
    case = await get_case(session, case_id=case_id)
    changes: dict[str, Any] = {}
    if title is not None and title != case.title:
        changes["title"] = case.title = title
    if summary is not None and summary != case.summary:
        case.summary = summary
        changes["summary"] = "changed"
    if services is not None and normalize_services(services) != case.services:
        changes["services"] = case.services = normalize_services(services)
    if owner_id is not None and owner_id != case.owner_id:
        await _check_user(session, owner_id, field="owner_id")
        changes["owner_id"] = case.owner_id = owner_id
    if responder_id is not None and responder_id != case.responder_id:
        await _check_user(session, responder_id, field="responder_id")
        changes["responder_id"] = case.responder_id = responder_id
    if changes:
        await session.flush()
        await audit.record(
            session,
            subject=subject(case),
            kind="case.updated",
            actor=actor,
            data={**changes, "reason": reason},
        )
    return case


async def acknowledge(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    actor_id: int,
    now: datetime,
    settings: Settings,
) -> Case:
    """Someone has taken the case: it is acknowledged and, if it had none, they respond."""
    case = await get_case(session, case_id=case_id)
    if case.responder_id is None:
        case.responder_id = actor_id
    return await milestones.record(
        session,
        case_id=case_id,
        milestones=[Milestone.ACKNOWLEDGED],
        at=now,
        actor=actor,
        source="hand",
        settings=settings,
    )


async def assess_severity(
    session: AsyncSession,
    *,
    case_id: int,
    given: AssessmentInput,
    reason: str,
    actor: str,
    policy: sla.SlaPolicy,
    settings: Settings,
) -> Case:
    case = await get_case(session, case_id=case_id)
    result: Assessment = assess(given)
    before = {"rating": case.rating, "cvss31": case.cvss31_score, "ssvc": case.ssvc_decision}
    case.cvss31_vector = result.cvss31.vector if result.cvss31 else None
    case.cvss31_score = result.cvss31.base_score if result.cvss31 else None
    case.cvss40_vector = result.cvss40.vector if result.cvss40 else None
    case.cvss40_score = result.cvss40.base_score if result.cvss40 else None
    case.impact = given.impact.value if given.impact else None
    case.data_sensitivity = given.data_sensitivity.value if given.data_sensitivity else None
    case.rating = result.rating.value if result.rating else None
    case.exploitation = given.exploitation.value
    case.automatable = given.automatable
    case.technical_impact = given.technical_impact.value if given.technical_impact else None
    case.mission_wellbeing = given.mission_wellbeing.value if given.mission_wellbeing else None
    case.ssvc_decision = result.ssvc.value if result.ssvc else None
    case.cwe_id = given.cwe_id
    case.publicly_disclosed = given.publicly_disclosed
    case.customer_action_required = given.customer_action_required
    deadlines.apply(case, policy)
    await session.flush()
    await audit.record(
        session,
        subject=subject(case),
        kind="case.severity_assessed",
        actor=actor,
        data={
            "before": before,
            "rating": case.rating,
            "cvss31": case.cvss31_vector,
            "cvss31_score": case.cvss31_score,
            "cvss40": case.cvss40_vector,
            "cvss40_score": case.cvss40_score,
            "ssvc": case.ssvc_decision,
            "cwe_id": case.cwe_id,
            "exploitation": case.exploitation,
            "publicly_disclosed": case.publicly_disclosed,
            "customer_action_required": case.customer_action_required,
            "reason": reason,
        },
    )
    await team.restrict_if_critical(session, case=case, settings=settings, actor=actor)
    await domain_events.publish(
        session,
        milestones.CaseAssessed(case.id, case.rating, case.ssvc_decision),
        settings=settings,
    )
    return case


async def transition(
    session: AsyncSession,
    *,
    case_id: int,
    target: CaseState,
    reason: str | None,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Case:
    """A person's move of the case to ``target``: it records the decision that is the fact
    (``states.hand_move`` says which, and refuses what only the code may set)."""
    case = await milestones.locked_case(session, case_id)  # the decision reads what it changes
    reached = await milestones.reached(session, case_id=case_id)
    move = hand_move(reached, target, reason=reason)
    if target is CaseState.CLOSED:
        await domain_events.publish(
            session, milestones.CaseClosing(case.id, case.rating), settings=settings
        )
    if target is CaseState.NOTIFIED and case.customer_action_required:
        raise Conflict(
            "customers must act on this case: they are told by the advisory, whose sending "
            "records the notification"
        )
    return await milestones.apply(
        session,
        case_id=case_id,
        move=move,
        at=now,
        actor=actor,
        source="hand",
        reason=reason,
        settings=settings,
    )


async def reopen_case(
    session: AsyncSession,
    *,
    case_id: int,
    reason: str | None,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Case:
    """Reopen a closed or rejected case; its other milestones stand, so it takes the state they
    give."""
    await milestones.locked_case(session, case_id)  # the decision reads what it then changes
    reached = await milestones.reached(session, case_id=case_id)
    move = reopen(reached, reason=reason)
    return await milestones.apply(
        session,
        case_id=case_id,
        move=move,
        at=now,
        actor=actor,
        source="hand",
        reason=reason,
        settings=settings,
    )


async def events(
    session: AsyncSession, *, case_id: int, page: int = 1, per_page: int = 100
) -> Page[AuditEvent]:
    return await audit.list_events(
        session, subject=subject(case_id), page=page, per_page=per_page, oldest_first=True
    )
