"""A case's team and its restriction (need to know), and breaking the glass.

Who sees a restricted case is decided in ``cases.access``; here it is changed: the restriction
chosen at creation or later (a person's choice is kept: a critical rating restricts a case by
default only while nobody has chosen), the named members, and an administrator's way in with a
reason, which the owner is told of by email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import service as users
from vulnops.auth.models import User
from vulnops.auth.principal import Principal
from vulnops.auth.roles import STAFF_ROLES, Role
from vulnops.cases import access
from vulnops.cases.models import Case, CaseMember
from vulnops.errors import Forbidden, Invalid, NotFound
from vulnops.mail import service as mail
from vulnops.settings import Settings


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    role: str  # owner, responder, member or break_glass
    reason: str | None = None


def _subject(case_id: int) -> str:
    return f"case:{case_id}"


async def members(session: AsyncSession, *, case: Case) -> list[Member]:
    """The team: owner, responder, then the named members in the order they were added."""
    rows = (
        await session.execute(
            select(CaseMember, User)
            .join(User, User.id == CaseMember.user_id)
            .where(CaseMember.case_id == case.id)
            .order_by(CaseMember.added_at, CaseMember.user_id)
        )
    ).all()
    people = {
        user.id: user
        for user in await session.scalars(
            select(User).where(User.id.in_([i for i in (case.owner_id, case.responder_id) if i]))
        )
    }
    team = [
        Member(user.id, user.display_name or user.email, label)
        for label, user_id in (("owner", case.owner_id), ("responder", case.responder_id))
        if user_id and (user := people.get(user_id))
    ]
    team += [
        Member(user.id, user.display_name or user.email, member.kind, member.reason)
        for member, user in rows
    ]
    return team


async def add_creator(session: AsyncSession, *, case: Case, principal: Principal) -> None:
    """Whoever opens a restricted case stays on its team, even if they neither own it nor
    respond to it."""
    if case.restricted and principal.user_id not in (case.owner_id, case.responder_id):
        await session.execute(
            insert(CaseMember)
            .values(case_id=case.id, user_id=principal.user_id, added_by=principal.actor)
            .on_conflict_do_nothing()
        )


async def set_team(
    session: AsyncSession,
    *,
    case: Case,
    restricted: bool,
    member_ids: Sequence[int],
    principal: Principal,
) -> None:
    """Restrict (or open) the case and name its members (besides owner and responder). Those
    who broke the glass stay listed: their access is part of the record."""
    wanted = sorted(set(member_ids))
    found = {
        user.id: user for user in await session.scalars(select(User).where(User.id.in_(wanted)))
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise Invalid(f"members: no user {missing[0]}")
    not_staff = [u.email for u in found.values() if u.role_enum not in STAFF_ROLES or u.disabled]
    if not_staff:
        raise Invalid(f"members: {not_staff[0]} is not active staff")
    if restricted and principal.user_id not in (case.owner_id, case.responder_id, *wanted):
        raise Invalid("you would no longer see the case: add yourself to its members")
    before = {"restricted": case.restricted, "members": await _named(session, case.id)}
    await session.execute(
        delete(CaseMember).where(
            CaseMember.case_id == case.id,
            CaseMember.kind == "member",
            CaseMember.user_id.not_in(wanted),
        )
    )
    if wanted:
        await session.execute(
            insert(CaseMember)
            .values(
                [{"case_id": case.id, "user_id": i, "added_by": principal.actor} for i in wanted]
            )
            .on_conflict_do_nothing()
        )
    case.restricted, case.restriction_chosen = restricted, True
    await session.flush()
    await audit.record(
        session,
        subject=_subject(case.id),
        kind="case.team_changed",
        actor=principal.actor,
        data={"before": before, "restricted": restricted, "members": wanted},
    )


async def inherit(session: AsyncSession, *, parent: Case, child: Case, actor: str) -> None:
    """The child case (a variant) gets the parent's named members, in one statement: whoever
    may see the parent sees what came from it (owner and responder are given at opening)."""
    await session.execute(
        insert(CaseMember).from_select(
            ["case_id", "user_id", "added_by"],
            select(literal(child.id), CaseMember.user_id, literal(actor)).where(
                CaseMember.case_id == parent.id, CaseMember.kind == "member"
            ),
        )
    )


async def _named(session: AsyncSession, case_id: int) -> list[int]:
    rows = await session.scalars(
        select(CaseMember.user_id).where(CaseMember.case_id == case_id, CaseMember.kind == "member")
    )
    return sorted(rows)


async def restrict_if_critical(
    session: AsyncSession, *, case: Case, settings: Settings, actor: str
) -> None:
    """A case rated critical is restricted by default (``VULNOPS_RESTRICT_CRITICAL_CASES``),
    unless a person has chosen its restriction already. Whoever rated it stays on its team."""
    if not (settings.restrict_critical_cases and case.rating == "critical"):
        return
    # Conditional, so a person's choice saved at the same moment is not overridden.
    restricted = await session.scalar(
        update(Case)
        .where(Case.id == case.id, Case.restricted.is_(False), Case.restriction_chosen.is_(False))
        .values(restricted=True)
        .returning(Case.id)
    )
    if restricted is not None:
        case.restricted = True
        assessor = await session.scalar(select(User.id).where(User.email == actor))
        if assessor is not None and assessor not in (case.owner_id, case.responder_id):
            await session.execute(
                insert(CaseMember)
                .values(case_id=case.id, user_id=assessor, added_by=actor)
                .on_conflict_do_nothing()
            )
        await audit.record(
            session,
            subject=_subject(case.id),
            kind="case.restricted",
            actor=actor,
            data={"why": "rated critical: restricted to its team by default"},
        )


async def break_glass(
    session: AsyncSession,
    *,
    tracking_id: str,
    reason: str,
    principal: Principal,
    settings: Settings,
) -> Case:
    """An administrator opens a restricted case they are not on the team of: with a reason,
    recorded on the case, and an email to its owner. Anyone else: as if it did not exist."""
    if principal.role is not Role.ADMIN:
        raise Forbidden("only an administrator may break the glass")
    if len(reason.strip()) < 10:
        raise Invalid("reason: say why, in at least 10 characters")
    case = await session.scalar(select(Case).where(Case.tracking_id == tracking_id.upper()))
    if case is None or not case.restricted:
        raise NotFound(f"no restricted case {tracking_id}")
    if await access.may_see(session, viewer=principal, case_id=case.id):
        return case
    added = await session.scalar(
        insert(CaseMember)
        .values(
            case_id=case.id,
            user_id=principal.user_id,
            kind="break_glass",
            reason=reason.strip(),
            added_by=principal.actor,
        )
        .on_conflict_do_nothing()
        .returning(CaseMember.user_id)
    )
    if added is None:  # the same request twice at once: recorded and told once
        return case
    await audit.record(
        session,
        subject=_subject(case.id),
        kind="case.glass_broken",
        actor=principal.actor,
        data={"reason": reason.strip()},
    )
    if case.owner_id is not None:
        owner = await users.get_user(session, user_id=case.owner_id)
        await mail.queue(
            session,
            settings=settings,
            to=owner.email,
            template="break_glass",
            context={
                "case": case,
                "admin": principal.display_name or principal.email,
                "reason": reason.strip(),
                "link": f"{settings.public_url.rstrip('/')}/cases/{case.id}",
            },
            kind="break_glass",
            about=_subject(case.id),
        )
    return case
