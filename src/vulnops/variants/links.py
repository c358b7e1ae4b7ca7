"""Links between cases: a variant, a bypass or a regression of the case it came from. The links
form a forest of origins: no case is linked to itself, nor to a case that came from it."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.errors import Conflict, Invalid
from vulnops.variants.models import CaseLink
from vulnops.variants.schemas import LinkOut

# Whether ``child`` is among ``parent``'s origins (the parent, its parent, ...): then linking
# child -> parent would close a cycle.
_ORIGINS = text(
    """
    WITH RECURSIVE origins(id) AS (
        SELECT CAST(:parent AS bigint)
        UNION
        SELECT l.parent_id FROM case_links l JOIN origins o ON l.child_id = o.id
    )
    SELECT EXISTS (SELECT 1 FROM origins WHERE id = :child)
    """
)


async def link(
    session: AsyncSession, *, child_id: int, parent_id: int, relation: str, actor: str
) -> CaseLink:
    """Record that ``child_id`` came from ``parent_id``; refused for a case itself, a cycle,
    or a pair already linked."""
    if child_id == parent_id:
        raise Invalid("parent_id: a case cannot be a variant of itself", field="parent_id")
    child = await cases.get_case(session, case_id=child_id)
    parent = await cases.get_case(session, case_id=parent_id)
    if await session.scalar(_ORIGINS, {"parent": parent.id, "child": child.id}):
        raise Conflict(
            f"{parent.tracking_id} already comes from {child.tracking_id}: linking it back "
            "would make a cycle",
            field="parent_id",
        )
    if await session.get(CaseLink, (child.id, parent.id)) is not None:
        raise Conflict(f"{child.tracking_id} is already linked to {parent.tracking_id}")
    found = CaseLink(child_id=child.id, parent_id=parent.id, relation=relation, created_by=actor)
    session.add(found)
    await session.flush()
    for subject, data in (
        (cases.subject(child), {"parent": parent.tracking_id, "relation": relation}),
        (cases.subject(parent), {"child": child.tracking_id, "relation": relation}),
    ):
        await audit.record(session, subject=subject, kind="variants.linked", actor=actor, data=data)
    return found


async def link_as(
    session: AsyncSession, *, child_id: int, parent_id: int, relation: str, principal: Principal
) -> CaseLink:
    """:func:`link` for a person: a parent they may not see is no case to them."""
    if not await access.may_see(session, viewer=principal, case_id=parent_id):
        raise Invalid(f"parent_id: no case {parent_id}", field="parent_id")
    return await link(
        session, child_id=child_id, parent_id=parent_id, relation=relation, actor=principal.actor
    )


async def related(
    session: AsyncSession, *, case_id: int, viewer: Principal | None
) -> tuple[list[LinkOut], list[LinkOut]]:
    """The cases this one came from, and the ones that came from it (only those the viewer
    may see)."""
    found: list[list[LinkOut]] = []
    for mine, theirs in (
        (CaseLink.child_id, CaseLink.parent_id),
        (CaseLink.parent_id, CaseLink.child_id),
    ):
        rows = await session.execute(
            select(Case.id, Case.tracking_id, Case.title, Case.state, CaseLink.relation)
            .join(CaseLink, theirs == Case.id)
            .where(mine == case_id, access.visible(viewer))
            .order_by(Case.id)
        )
        found.append(
            [
                LinkOut(
                    case_id=r.id,
                    tracking_id=r.tracking_id,
                    title=r.title,
                    state=r.state,
                    relation=r.relation,
                )
                for r in rows
            ]
        )
    return found[0], found[1]
