"""Need to know, for every route: a restricted case, or a report, fix, rollout, advisory or
delivery of one, is not there for staff off the case's team (404), whatever the route; and the
event log leaves out what belongs to such a case. Here rather than in ``cases.access`` because
it reads every domain that belongs to a case (they all import ``cases``).

:func:`need_to_know` is an application-wide dependency: it runs for every route, after the
caller is known, so a route added later is covered without declaring anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Select, exists, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.deps import get_principal
from vulnops.auth.principal import Principal
from vulnops.bounty.models import BountyAward, BountyDispute
from vulnops.cases import access
from vulnops.cases.models import Case
from vulnops.db.deps import SessionDep
from vulnops.errors import NotFound
from vulnops.intake.models import Report
from vulnops.notify.models import Advisory, AdvisoryVersion, Delivery
from vulnops.remediation.models import Fix
from vulnops.review.models import ActionItem
from vulnops.rollout.models import Rollout
from vulnops.variants.models import Finding, Hunt, Improvement


async def need_to_know(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal | None, Depends(get_principal)],
) -> None:
    if principal is not None:
        await guard_path(session, viewer=principal, params=request.path_params)


async def case_of(session: AsyncSession, *, param: str, value: int) -> int | None:
    """The case a route's path parameter belongs to (None: it belongs to none, or no such
    thing: the route answers that itself)."""
    if param == "case_id":
        return value
    lookups = {
        "report_id": select(Report.case_id).where(Report.id == value),
        "award_id": select(Report.case_id)
        .join(BountyAward, BountyAward.report_id == Report.id)
        .where(BountyAward.id == value),
        "dispute_id": select(Report.case_id)
        .join(BountyDispute, BountyDispute.report_id == Report.id)
        .where(BountyDispute.id == value),
        "fix_id": select(Fix.case_id).where(Fix.id == value),
        "rollout_id": select(Rollout.case_id).where(Rollout.id == value),
        "hunt_id": select(Hunt.case_id).where(Hunt.id == value),
        "finding_id": select(Hunt.case_id)
        .join(Finding, Finding.hunt_id == Hunt.id)
        .where(Finding.id == value),
        "improvement_id": select(Improvement.case_id).where(Improvement.id == value),
        "item_id": select(ActionItem.case_id).where(ActionItem.id == value),
        "advisory_id": select(Advisory.case_id).where(Advisory.id == value),
        "delivery_id": select(Advisory.case_id)
        .join(AdvisoryVersion, AdvisoryVersion.advisory_id == Advisory.id)
        .join(Delivery, Delivery.version_id == AdvisoryVersion.id)
        .where(Delivery.id == value),
    }
    query = lookups.get(param)
    return None if query is None else await session.scalar(query)


CASE_PARAMS = frozenset(
    {
        "case_id",
        "report_id",
        "award_id",
        "dispute_id",
        "fix_id",
        "rollout_id",
        "advisory_id",
        "delivery_id",
        "hunt_id",
        "finding_id",
        "improvement_id",
        "item_id",
    }
)


async def guard_path(
    session: AsyncSession, *, viewer: Principal, params: Mapping[str, object]
) -> None:
    """404 when a path parameter names (something of) a restricted case the staff member is
    not on the team of: to them, it does not exist."""
    if not viewer.is_staff:
        return
    for param in CASE_PARAMS & params.keys():
        raw = params[param]
        if not isinstance(raw, int) and not (isinstance(raw, str) and raw.isdigit()):
            continue
        value = int(raw)
        if value > 2**63 - 1:
            continue
        case_id = await case_of(session, param=param, value=value)
        if case_id is not None and await _hidden(session, viewer=viewer, case_id=case_id):
            raise NotFound(f"no {param.removesuffix('_id')} {value}")


async def _hidden(session: AsyncSession, *, viewer: Principal, case_id: int) -> bool:
    hidden = access.hidden_case_ids(viewer)
    if hidden is None:
        return False
    return await session.scalar(select(exists(hidden.where(Case.id == case_id)))) is True


def hidden_subjects(viewer: Principal | None) -> Select[str] | None:
    """The event log subjects of the restricted cases hidden from the viewer and of their
    reports, rollouts, advisories (and their versions) and disclosure (for the event log's
    lists); None: none hidden."""
    hidden = access.hidden_case_ids(viewer)
    if hidden is None:
        return None
    ids = hidden.subquery()
    parts = [
        select(func.concat("case:", ids.c.id)),
        select(func.concat("report:", Report.id)).where(Report.case_id.in_(select(ids.c.id))),
        select(func.concat("rollout:", Rollout.id)).where(Rollout.case_id.in_(select(ids.c.id))),
        select(func.concat("advisory:", Advisory.id)).where(Advisory.case_id.in_(select(ids.c.id))),
        select(func.concat("advisory_version:", AdvisoryVersion.id))
        .join(Advisory, Advisory.id == AdvisoryVersion.advisory_id)
        .where(Advisory.case_id.in_(select(ids.c.id))),
        select(func.concat("disclosure:", ids.c.id)),
    ]
    return union_all(*parts)  # type: ignore[return-value]
