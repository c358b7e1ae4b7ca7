"""A case's root-cause analysis and its structural improvements; the rule that a case of a
high enough rating is not closed without one (a listener of :class:`CaseClosing`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import service as users
from vulnops.auth.roles import STAFF_ROLES
from vulnops.cases import cwe
from vulnops.cases import service as cases
from vulnops.cases.milestones import CaseClosing
from vulnops.cases.severity import Rating
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.settings import Settings
from vulnops.variants.models import Improvement, RootCause
from vulnops.variants.schemas import ImprovementOut, RootCauseIn, RootCauseOut, Weakness


def weakness(cwe_id: int) -> Weakness:
    return Weakness(
        cwe_id=cwe_id, name=cwe.name(cwe_id) or "", abstraction=cwe.abstraction(cwe_id) or ""
    )


def known_weakness(cwe_id: int, *, field: str = "cwe_id") -> int:
    """The id, when CWE-1000 holds it as a weakness (not a category or a view)."""
    if cwe.abstraction(cwe_id) is None:
        raise Invalid(f"{field}: CWE-{cwe_id} is not a weakness in {cwe.version()}", field=field)
    return cwe_id


async def record(
    session: AsyncSession, *, case_id: int, given: RootCauseIn, actor: str, now: datetime
) -> RootCause:
    """Write (or rewrite) the case's root cause; the case takes its weakness."""
    case = await cases.get_case(session, case_id=case_id)
    if given.cwe_id is not None:
        known_weakness(given.cwe_id)
    values = given.model_dump() | {"updated_by": actor, "updated_at": now}
    await session.execute(
        insert(RootCause)
        .values(case_id=case.id, **values)
        .on_conflict_do_update(index_elements=[RootCause.case_id], set_=values)
    )
    if given.cwe_id is not None and case.cwe_id != given.cwe_id:
        case.cwe_id = given.cwe_id
    await audit.record(
        session,
        subject=cases.subject(case),
        kind="variants.root_cause_recorded",
        actor=actor,
        data={"cwe_id": given.cwe_id, "introduced_ref": given.introduced_ref},
    )
    found = await session.get(RootCause, case.id, populate_existing=True)
    assert found is not None
    return found


async def add_improvement(
    session: AsyncSession,
    *,
    case_id: int,
    action: str,
    owner_id: int,
    due: date,
    actor: str,
) -> Improvement:
    case = await cases.get_case(session, case_id=case_id)
    owner = await users.get_user(session, user_id=owner_id)
    if owner.disabled or owner.role_enum not in STAFF_ROLES:
        raise Invalid(f"owner_id: {owner.email} is not active staff", field="owner_id")
    improvement = Improvement(
        case_id=case.id, action=action.strip(), owner_id=owner.id, due=due, created_by=actor
    )
    if not improvement.action:
        raise Invalid("action: say what will change", field="action")
    session.add(improvement)
    await session.flush()
    await audit.record(
        session,
        subject=cases.subject(case),
        kind="variants.improvement_added",
        actor=actor,
        data={"improvement": improvement.id, "action": improvement.action, "due": str(due)},
    )
    return improvement


async def complete_improvement(
    session: AsyncSession, *, improvement_id: int, actor: str, now: datetime
) -> Improvement:
    improvement = await session.get(Improvement, improvement_id, with_for_update=True)
    if improvement is None:
        raise NotFound(f"no structural improvement {improvement_id}")
    if improvement.done_at is not None:
        raise Conflict(f"improvement {improvement_id} was done on {improvement.done_at:%Y-%m-%d}")
    improvement.done_at, improvement.done_by = now, actor
    await audit.record(
        session,
        subject=cases.subject(improvement.case_id),
        kind="variants.improvement_done",
        actor=actor,
        data={"improvement": improvement.id, "action": improvement.action},
    )
    return improvement


async def improvements(
    session: AsyncSession, *, case_ids: list[int], today: date, ids: list[int] | None = None
) -> list[ImprovementOut]:
    """The structural improvements of these cases (only ``ids``, when given), soonest due
    first."""
    query = select(Improvement).where(Improvement.case_id.in_(case_ids))
    if ids is not None:
        query = query.where(Improvement.id.in_(ids))
    found = list(await session.scalars(query.order_by(Improvement.due, Improvement.id)))
    names = await users.display_names(session, user_ids={i.owner_id for i in found})
    return [
        ImprovementOut(
            id=i.id,
            case_id=i.case_id,
            action=i.action,
            owner_id=i.owner_id,
            owner=names.get(i.owner_id, f"user {i.owner_id}"),
            due=i.due,
            done_at=i.done_at,
            done_by=i.done_by,
            overdue=i.done_at is None and i.due < today,
        )
        for i in found
    ]


async def improvement_out(
    session: AsyncSession, *, found: Improvement, today: date
) -> ImprovementOut:
    return (await improvements(session, case_ids=[found.case_id], ids=[found.id], today=today))[0]


async def view(session: AsyncSession, *, case_id: int, today: date) -> RootCauseOut:
    case = await cases.get_case(session, case_id=case_id)
    found = await session.get(RootCause, case.id)
    cwe_id = found.cwe_id if found and found.cwe_id else case.cwe_id
    return RootCauseOut(
        case_id=case.id,
        weakness=weakness(cwe_id) if cwe_id else None,
        ancestors=[weakness(a) for a in cwe.ancestors(cwe_id)] if cwe_id else [],
        introduced_repository=found.introduced_repository if found else "",
        introduced_ref=found.introduced_ref if found else "",
        cause=found.cause if found else "",
        found_how=found.found_how if found else "",
        found_earlier=found.found_earlier if found else "",
        detection_ideas=found.detection_ideas if found else "",
        updated_by=found.updated_by if found else None,
        updated_at=found.updated_at if found else None,
        improvements=await improvements(session, case_ids=[case.id], today=today),
    )


def _required(rating: str | None, settings: Settings) -> bool:
    threshold = settings.root_cause_required_from
    if threshold == "never" or rating is None:
        return False
    order = [r.value for r in Rating]  # critical first
    return rating in order and order.index(rating) <= order.index(threshold)


async def require_before_close(
    session: AsyncSession, event: CaseClosing, settings: Settings
) -> None:
    """Refuse to close a case of a rating at or above the setting without a root cause that
    names the weakness and says the cause."""
    if not _required(event.rating, settings):
        return
    found = await session.get(RootCause, event.case_id)
    missing = [
        label
        for label, given in (
            ("the weakness", found is not None and found.cwe_id),
            ("the root cause in words", found is not None and found.cause.strip()),
        )
        if not given
    ]
    if missing:
        raise Conflict(
            f"a {event.rating} case is closed once its root-cause analysis is written; missing: "
            f"{' and '.join(missing)} (Root cause tab)",
            missing=missing,
        )
