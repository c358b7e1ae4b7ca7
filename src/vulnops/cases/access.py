"""Need to know: a restricted case exists only for its team.

The team is the case's owner and responder and its named members (``case_members``). For
anyone else on the staff a restricted case is not there at all: every route that names it (or
a report, fix, rollout, advisory or delivery of it) answers 404 through :func:`guard_path`, and
every list leaves it out through :func:`hidden_case_ids`. An administrator may open one with a
reason ("break the glass"): an event, an email to the owner, and a place on the team marked as
such. Outside researchers and customers are not staff: their own reports and advisories are
theirs whatever the case's restriction (they never see the case itself).
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.cases.models import Case, CaseMember


def _on_team(user_id: int) -> ColumnElement[bool]:
    member = exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user_id)
    # IS NOT DISTINCT FROM, not =: a case without a responder must not make the whole
    # condition NULL (NOT NULL is NULL, and the case would vanish from "hidden").
    return or_(
        Case.owner_id.is_not_distinct_from(user_id),
        Case.responder_id.is_not_distinct_from(user_id),
        member,
    )


def visible(viewer: Principal | None) -> ColumnElement[bool]:
    """A condition on ``Case``: the viewer may see it. None is the system itself (jobs, the
    operator's command line); outside researchers and customers never see cases."""
    if viewer is None:
        return true()
    if not viewer.is_staff:
        return false()
    return or_(Case.restricted.is_(False), _on_team(viewer.user_id))


def hidden_case_ids(viewer: Principal | None) -> Select[int] | None:
    """The ids of the restricted cases the viewer is not on the team of, for lists of other
    things that belong to a case (``.where(X.case_id.not_in(hidden))``); None: none hidden."""
    if viewer is None or not viewer.is_staff:
        return None
    return select(Case.id).where(and_(Case.restricted.is_(True), ~_on_team(viewer.user_id)))


async def may_see(session: AsyncSession, *, viewer: Principal | None, case_id: int) -> bool:
    """Whether the case is there for the viewer (a case that does not exist is not)."""
    found = await session.scalar(select(Case.id).where(Case.id == case_id, visible(viewer)))
    return found is not None


async def hidden_ids(session: AsyncSession, *, viewer: Principal | None) -> list[int]:
    """:func:`hidden_case_ids` as a list, for raw SQL (``NOT (x.case_id = ANY(:hidden))``);
    restricted cases are few."""
    hidden = hidden_case_ids(viewer)
    return [] if hidden is None else list(await session.scalars(hidden))


async def on_team(session: AsyncSession, *, viewer: Principal | None, case_id: int) -> bool:
    """Whether the viewer is on the case's team (None, the system itself, is): what names the
    customers in a review, even of a case that is not restricted."""
    if viewer is None:
        return True
    found = await session.scalar(
        select(Case.id).where(Case.id == case_id, _on_team(viewer.user_id))
    )
    return found is not None
