"""Weakness classes: a CWE across services — its cases, their variants, the services it
recurred in and when; closing it (every case and variant fixed, a structural improvement done)
and the top weaknesses by cases, time to fix and recurrence.

A case is *fixed* once it is mitigated (or closed or rejected: nothing left to fix). The class's
state is derived from its cases and its closure: ``open`` (never closed), ``closed`` (closed and
every case still fixed), ``reopened`` (closed, and a case — a guard's regression — is not fixed).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.cases import access, cwe
from vulnops.cases.models import Case
from vulnops.errors import Conflict, Invalid
from vulnops.variants import guards, rootcause
from vulnops.variants.models import CaseLink, WeaknessClass
from vulnops.variants.rootcause import known_weakness, weakness
from vulnops.variants.schemas import ClassCase, ClassOut, ClassRow, Recurrence

Order = Literal["cases", "time", "recurrence"]
ORDERS: dict[str, str] = {
    "cases": "cases DESC, cwe_id",
    "time": "median_days_to_fix DESC NULLS LAST, cases DESC, cwe_id",
    "recurrence": "recurrences DESC, services DESC, cases DESC, cwe_id",
}


def subject(cwe_id: int) -> str:
    return f"class:CWE-{cwe_id}"


def _fixed(case: type[Case] = Case) -> ColumnElement[bool]:
    return case.mitigated_at.is_not(None) | case.state.in_(("closed", "rejected"))


async def _cases(
    session: AsyncSession, *, cwe_id: int, viewer: Principal | None
) -> list[ClassCase]:
    """The class's cases and the cases linked to them (its variants, even those filed under
    another weakness), oldest first."""
    family = (
        select(CaseLink.child_id)
        .join(Case, Case.id == CaseLink.parent_id)
        .where(Case.cwe_id == cwe_id)
    )
    relation = (
        select(CaseLink.relation).where(CaseLink.child_id == Case.id).limit(1).scalar_subquery()
    )
    rows = await session.execute(
        select(Case, relation.label("relation"), _fixed().label("fixed"))
        .where((Case.cwe_id == cwe_id) | Case.id.in_(family), access.visible(viewer))
        .order_by(Case.opened_at, Case.id)
    )
    return [
        ClassCase(
            case_id=c.id,
            tracking_id=c.tracking_id,
            title=c.title,
            state=c.state,
            services=list(c.services),
            opened_at=c.opened_at,
            mitigated_at=c.mitigated_at,
            relation=rel,
            fixed=bool(fixed),
        )
        for c, rel, fixed in rows
    ]


def _recurrence(found: list[ClassCase]) -> list[Recurrence]:
    by_service: dict[str, list[ClassCase]] = {}
    for case in found:
        for service in case.services:
            by_service.setdefault(service, []).append(case)
    return [
        Recurrence(
            service=service,
            cases=len(items),
            first=min(i.opened_at for i in items),
            last=max(i.opened_at for i in items),
        )
        for service, items in sorted(by_service.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


async def show(
    session: AsyncSession, *, cwe_id: int, viewer: Principal | None, today: date
) -> ClassOut:
    known_weakness(cwe_id)
    found = await _cases(session, cwe_id=cwe_id, viewer=viewer)
    closure = await session.get(WeaknessClass, cwe_id, populate_existing=True)
    improvements = await rootcause.improvements(
        session, case_ids=[c.case_id for c in found], today=today
    )
    everyone = await _cases(session, cwe_id=cwe_id, viewer=None)
    state: Literal["open", "closed", "reopened"] = "open"
    if closure is not None:
        state = "closed" if all(c.fixed for c in everyone) else "reopened"
    return ClassOut(
        weakness=weakness(cwe_id),
        ancestors=[weakness(a) for a in cwe.ancestors(cwe_id)],
        state=state,
        closed_at=closure.closed_at if closure else None,
        closed_by=closure.closed_by if closure else None,
        cases=found,
        open_variants=sum(1 for c in found if c.relation and not c.fixed),
        improvements_done=sum(1 for i in improvements if i.done_at),
        improvements_open=sum(1 for i in improvements if not i.done_at),
        recurrence=_recurrence(found),
        guards=await guards.count(session, cwe_id=cwe_id),
    )


async def close(
    session: AsyncSession,
    *,
    cwe_id: int,
    reason: str,
    actor: str,
    viewer: Principal | None,
    today: date,
) -> ClassOut:
    """Close the class, and set its guards: refused while a case or variant of it is not fixed
    (those the viewer may not see counted, not named) or before a structural improvement is
    done."""
    known_weakness(cwe_id)
    everyone = await _cases(session, cwe_id=cwe_id, viewer=None)
    if not everyone:
        raise Conflict(f"CWE-{cwe_id} has no cases: there is nothing to close")
    unfixed = [c for c in everyone if not c.fixed]
    if unfixed:
        seen = {c.case_id for c in await _cases(session, cwe_id=cwe_id, viewer=viewer)}
        named = [c.tracking_id for c in unfixed if c.case_id in seen]
        others = len(unfixed) - len(named)
        listed = ", ".join([*named[:10], *([f"{others} you may not see"] if others else [])])
        raise Conflict(
            f"the class has {len(unfixed)} case(s) or variant(s) not fixed yet: {listed} — a "
            "class is closed once every variant is fixed",
            open=named,
        )
    improvements = await rootcause.improvements(
        session, case_ids=[c.case_id for c in everyone], today=today
    )
    if not any(i.done_at for i in improvements):
        raise Conflict(
            "no structural improvement of this class is done yet: a class is closed once one "
            "is (add them on a case's Root cause tab)"
        )
    await session.execute(
        insert(WeaknessClass)
        .values(cwe_id=cwe_id, closed_by=actor, reason=reason)
        .on_conflict_do_update(
            index_elements=[WeaknessClass.cwe_id],
            set_={"closed_by": actor, "reason": reason, "closed_at": text("now()")},
        )
    )
    set_up = await guards.set_up(session, cwe_id=cwe_id, case_ids=[c.case_id for c in everyone])
    await audit.record(
        session,
        subject=subject(cwe_id),
        kind="variants.class_closed",
        actor=actor,
        data={"cases": len(everyone), "guards": set_up, "reason": reason},
    )
    return await show(session, cwe_id=cwe_id, viewer=viewer, today=today)


# One pass over the visible cases with a weakness: per weakness, its cases, the open ones, the
# services it appeared in, the median days from first report to mitigation, and how many cases
# were first reported after the class was first fixed (it came back).
_TOP = """
WITH visible AS MATERIALIZED (
    SELECT c.id, c.cwe_id, c.services, c.started_at, c.opened_at, c.mitigated_at,
           (c.mitigated_at IS NOT NULL OR c.state IN ('closed', 'rejected')) AS fixed,
           min(c.mitigated_at) OVER (PARTITION BY c.cwe_id) AS first_fixed
    FROM cases c WHERE c.cwe_id IS NOT NULL AND NOT (c.id = ANY(CAST(:hidden AS bigint[])))
)
SELECT v.cwe_id, count(*) AS cases, count(*) FILTER (WHERE NOT v.fixed) AS open_cases,
       (SELECT count(DISTINCT s) FROM visible w, unnest(w.services) s
        WHERE w.cwe_id = v.cwe_id) AS services,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM v.mitigated_at - v.started_at) / 86400.0
       ) FILTER (WHERE v.mitigated_at IS NOT NULL) AS median_days_to_fix,
       count(*) FILTER (WHERE v.started_at > v.first_fixed) AS recurrences,
       EXISTS (SELECT 1 FROM weakness_classes k WHERE k.cwe_id = v.cwe_id) AS closed
FROM visible v
GROUP BY v.cwe_id
ORDER BY {order}
LIMIT :limit
"""


async def top(
    session: AsyncSession, *, viewer: Principal | None, order: str = "cases", limit: int = 25
) -> list[ClassRow]:
    """The top weaknesses among the cases the viewer may see."""
    if order not in ORDERS:
        raise Invalid(f"order: one of {', '.join(ORDERS)}", field="order")
    if viewer is not None and not viewer.is_staff:
        return []
    rows = await session.execute(
        text(_TOP.format(order=ORDERS[order])),
        {"limit": limit, "hidden": await access.hidden_ids(session, viewer=viewer)},
    )
    return [
        ClassRow(
            cwe_id=r.cwe_id,
            name=cwe.name(r.cwe_id) or "",
            cases=r.cases,
            open_cases=r.open_cases,
            services=r.services,
            median_days_to_fix=None
            if r.median_days_to_fix is None
            else round(float(r.median_days_to_fix), 1),
            recurrences=r.recurrences,
            closed=r.closed,
        )
        for r in rows
    ]
