"""The four-eyes mechanism every domain uses: request, approve, reject. Callers commit.

A domain asks for an approval of one of its objects (``subject``, such as
``advisory_version:12``) and, when someone decides, carries out what the decision means for it.
Who may decide is the rule kept here: never one of the request's authors (everyone who wrote
what is approved, or asked for it) when the step needs a second person — which steps do is
configuration (``VULNOPS_FOUR_EYES``), all of them by default.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals.models import Approval
from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, has_permission
from vulnops.cases import access
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.db.writes import add_unique
from vulnops.errors import Conflict, Forbidden, Invalid
from vulnops.settings import Settings


class Step(StrEnum):
    ADVISORY = "advisory"
    PUBLIC_TEXT = "public_text"
    DISCLOSURE = "disclosure"
    EXPEDITED_ROLLOUT = "expedited_rollout"
    BOUNTY_AWARD = "bounty_award"
    REVIEW = "review"


LABELS = {
    Step.ADVISORY: "advisory version",
    Step.PUBLIC_TEXT: "public text",
    Step.DISCLOSURE: "disclosure",
    Step.EXPEDITED_ROLLOUT: "expedited rollout",
    Step.BOUNTY_AWARD: "bounty award",
    Step.REVIEW: "post-incident review",
}


# The permission whose routes decide each step (the routes live in each domain).
DECIDED_WITH: dict[Step, Permission] = {
    Step.ADVISORY: Permission.ADVISORIES_APPROVE,
    Step.PUBLIC_TEXT: Permission.DISCLOSURE_MANAGE,
    Step.DISCLOSURE: Permission.DISCLOSURE_MANAGE,
    Step.EXPEDITED_ROLLOUT: Permission.ROLLOUTS_APPROVE,
    Step.BOUNTY_AWARD: Permission.BOUNTY_APPROVE,
    Step.REVIEW: Permission.REVIEWS_WRITE,
}


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def page_of(approval: Approval) -> str:
    """The page where the approval is decided."""
    kind, _, number = approval.subject.partition(":")
    if kind == "rollout":
        return f"/rollouts/{number}"
    tabs = {
        "advisory_version": "/advisory",
        "advisory_translation": "/advisory#translations",
        "public_text": "/disclosure#public-text",
        "review": "/review",
    }
    return f"/cases/{approval.case_id}{tabs.get(kind, '/disclosure')}"


def needs_second_person(settings: Settings, step: Step) -> bool:
    return step.value in settings.four_eyes


def _subject_of(approval: Approval) -> str:
    return f"case:{approval.case_id}" if approval.case_id else f"approval:{approval.id}"


async def pending(session: AsyncSession, *, subject: str, lock: bool = False) -> Approval | None:
    query = select(Approval).where(
        Approval.subject == subject, Approval.status == Status.PENDING.value
    )
    found: Approval | None = await session.scalar(query.with_for_update() if lock else query)
    return found


async def request(
    session: AsyncSession,
    *,
    step: Step,
    subject: str,
    summary: str,
    author: str,
    case_id: int | None = None,
    approver: str | None = None,
) -> Approval:
    """Ask for ``subject`` to be approved. Asked again while it waits (a draft edited once
    more), the request stays and ``author`` joins its authors; asked again after a rejection
    (the same draft, rewritten), the authors of the rejected requests stay authors: none of
    them approves what is still partly theirs."""
    waiting = await pending(session, subject=subject, lock=True)
    if waiting is not None:
        if author.lower() not in {a.lower() for a in waiting.authors}:
            waiting.authors = [*waiting.authors, author]
        waiting.summary = summary[:300]
        await session.flush()
        return waiting
    earlier = await session.scalars(
        select(Approval.authors).where(
            Approval.subject == subject, Approval.status == Status.REJECTED.value
        )
    )
    authors = list(dict.fromkeys([*(a for names in earlier for a in names), author]))
    approval = Approval(
        step=step.value,
        subject=subject,
        case_id=case_id,
        summary=summary[:300],
        authors=authors,
        approver=approver.lower() if approver else None,
        status=Status.PENDING.value,
        requested_by=author,
    )
    await add_unique(session, approval, conflict=f"{subject} already waits for approval")
    await audit.record(
        session,
        subject=_subject_of(approval),
        kind="approval.requested",
        actor=author,
        data={"approval": approval.id, "step": step.value, "about": subject, "summary": summary},
    )
    return approval


async def decide(
    session: AsyncSession,
    *,
    subject: str,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> Approval:
    """Approve or reject what waits for ``subject``: refused (403, naming the rule) to one of
    its authors when the step needs a second person, and to anyone but a named approver."""
    approval = await pending(session, subject=subject, lock=True)
    if approval is None:
        raise Conflict(f"nothing waits for approval ({subject})")
    step = Step(approval.step)
    comment = (comment or "").strip() or None
    if not approve and comment is None:
        raise Invalid("comment: say why it is rejected")
    verb = "approve" if approve else "reject"
    is_author = actor.lower() in {a.lower() for a in approval.authors}
    if is_author and needs_second_person(settings, step):
        raise Forbidden(
            f"four eyes: {actor} wrote or asked for this {LABELS[step]}, so another person must "
            f"{verb} it (VULNOPS_FOUR_EYES lists the steps that need a second person)",
            rule="four_eyes",
        )
    if approval.approver is not None and actor.lower() != approval.approver:
        raise Forbidden(f"only the named approver ({approval.approver}) may {verb} it")
    approval.status = (Status.APPROVED if approve else Status.REJECTED).value
    approval.decided_by, approval.decided_at, approval.comment = actor, now, comment
    approval.single_person = is_author
    await session.flush()
    await audit.record(
        session,
        subject=_subject_of(approval),
        kind=f"approval.{approval.status}",
        actor=actor,
        data={
            "approval": approval.id,
            "step": step.value,
            "about": subject,
            "comment": comment,
            "single_person": is_author,
        },
    )
    return approval


async def withdraw(session: AsyncSession, *, subject: str, actor: str) -> None:
    """What waited for approval is gone (a translation removed): its request goes too."""
    waiting = await pending(session, subject=subject, lock=True)
    if waiting is None:
        return
    await session.delete(waiting)
    await session.flush()
    await audit.record(
        session,
        subject=_subject_of(waiting),
        kind="approval.withdrawn",
        actor=actor,
        data={"approval": waiting.id, "step": waiting.step, "about": subject},
    )


async def list_approvals(
    session: AsyncSession,
    *,
    viewer: Principal | None,
    status: Status | None = Status.PENDING,
    step: Step | None = None,
    case_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Approval]:
    """Requests, oldest waiting first."""
    stmt = select(Approval)
    if status is not None:
        stmt = stmt.where(Approval.status == status.value)
    if step is not None:
        stmt = stmt.where(Approval.step == step.value)
    if case_id is not None:
        stmt = stmt.where(Approval.case_id == case_id)
    if (hidden := access.hidden_case_ids(viewer)) is not None:
        stmt = stmt.where(or_(Approval.case_id.is_(None), Approval.case_id.not_in(hidden)))
    stmt = stmt.order_by(Approval.requested_at, Approval.id)
    return await paginate_scalars(session, stmt, page=page, per_page=per_page)


async def waiting_for(
    session: AsyncSession,
    *,
    viewer: Principal,
    settings: Settings,
    page: int = 1,
    per_page: int = 50,
) -> Page[Approval]:
    """What waits for this person's decision, oldest first: the steps their role decides,
    not named for someone else, and not their own work where the step needs a second
    person (the same rules :func:`decide` applies), in cases they may see."""
    actor, role = viewer.actor, viewer.role
    steps = [step.value for step in Step if has_permission(role, DECIDED_WITH[step])]
    own_allowed = [step.value for step in Step if not needs_second_person(settings, step)]
    me = actor.lower()
    not_mine = text(
        "NOT EXISTS (SELECT 1 FROM unnest(approvals.authors) AS author WHERE lower(author) = :me)"
    ).bindparams(me=me)
    stmt = (
        select(Approval)
        .where(
            Approval.status == Status.PENDING.value,
            Approval.step.in_(steps),
            or_(Approval.approver.is_(None), Approval.approver == me),
            or_(Approval.step.in_(own_allowed), not_mine),
        )
        .order_by(Approval.requested_at, Approval.id)
    )
    if (hidden := access.hidden_case_ids(viewer)) is not None:
        stmt = stmt.where(or_(Approval.case_id.is_(None), Approval.case_id.not_in(hidden)))
    return await paginate_scalars(session, stmt, page=page, per_page=per_page)
