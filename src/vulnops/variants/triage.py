"""Deciding a finding: a new case linked to the hunt's (a variant, a bypass, a regression: it
inherits the parent's restriction, owner, responder and team), a duplicate of an existing case
(only when one fix would have fixed both — the bounty platforms' test), or not a problem, with
a reason. Until then a finding is a candidate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.cases import access, team
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.fleet import service as fleet
from vulnops.settings import Settings
from vulnops.variants import links
from vulnops.variants.models import Finding, Hunt
from vulnops.variants.schemas import DecisionIn

RELATION_WORDS = {"variant": "Variant", "bypass": "Bypass", "regression": "Regression"}


async def open_child(
    session: AsyncSession,
    *,
    parent: Case,
    relation: str,
    title: str,
    summary: str,
    services: Sequence[str],
    actor: str,
    settings: Settings,
    now: datetime,
) -> Case:
    """A case that came from ``parent``: its weakness, restriction and team, and the link."""
    child = await cases.open_case(
        session,
        title=f"{RELATION_WORDS[relation]} of {parent.tracking_id}: {title}"[:300],
        summary=summary,
        services=services,
        actor=actor,
        settings=settings,
        owner_id=parent.owner_id,
        responder_id=parent.responder_id,
        # Restricted when the parent is (chosen, or by its critical rating); open when a person
        # opened the parent; else left to the child's own rating.
        restricted=True if parent.restricted else (False if parent.restriction_chosen else None),
        cwe_id=parent.cwe_id,
        now=now,
    )
    await team.inherit(session, parent=parent, child=child, actor=actor)
    await links.link(
        session, child_id=child.id, parent_id=parent.id, relation=relation, actor=actor
    )
    return child


async def decide(
    session: AsyncSession,
    *,
    finding_id: int,
    given: DecisionIn,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> Finding:
    finding = await session.get(Finding, finding_id, with_for_update=True)
    if finding is None:
        raise NotFound(f"no finding {finding_id}")
    if finding.state != "candidate":
        raise Conflict(
            f"finding {finding_id} was already decided: {finding.state.replace('_', ' ')}"
        )
    hunt = await session.get(Hunt, finding.hunt_id)
    assert hunt is not None
    parent = await cases.get_case(session, case_id=hunt.case_id)
    if given.decision in RELATION_WORDS:
        ids = [finding.service_id] if finding.service_id is not None else []
        keys = list((await fleet.service_keys(session, ids=ids)).values())
        child = await open_child(
            session,
            parent=parent,
            relation=given.decision,
            title=finding.title,
            summary=f"Found by hunt {hunt.id} ({hunt.strategy}) of {parent.tracking_id}: "
            f"{finding.location}\n\n{given.reason}".strip(),
            services=keys,
            actor=principal.actor,
            settings=settings,
            now=now,
        )
        finding.state, finding.decided_case_id = "variant", child.id
    elif given.decision == "duplicate":
        await _check_duplicate(session, given, principal=principal)
        finding.state, finding.decided_case_id = "duplicate", given.duplicate_of
    else:
        if not given.reason.strip():
            raise Invalid("reason: say why it is not a problem", field="reason")
        finding.state = "not_a_problem"
    finding.reason = given.reason.strip() or None
    finding.decided_by, finding.decided_at = principal.actor, now
    await audit.record(
        session,
        subject=cases.subject(parent),
        kind="variants.finding_decided",
        actor=principal.actor,
        data={
            "hunt": hunt.id,
            "finding": finding.id,
            "decision": given.decision,
            "case": finding.decided_case_id,
        },
    )
    await session.flush()
    return finding


async def _check_duplicate(
    session: AsyncSession, given: DecisionIn, *, principal: Principal
) -> None:
    if given.duplicate_of is None:
        raise Invalid("duplicate_of: name the case this finding repeats", field="duplicate_of")
    if not await access.may_see(session, viewer=principal, case_id=given.duplicate_of):
        raise Invalid(f"duplicate_of: no case {given.duplicate_of}", field="duplicate_of")
    await cases.get_case(session, case_id=given.duplicate_of)
    if given.one_fix_fixes_both is None:
        raise Invalid(
            "one_fix_fixes_both: would the first fix have fixed this one too? Answer it",
            field="one_fix_fixes_both",
        )
    if not given.one_fix_fixes_both:
        raise Invalid(
            "one_fix_fixes_both: a finding the first fix would not have fixed is a variant, "
            "not a duplicate: decide variant (or bypass)",
            field="one_fix_fixes_both",
        )
