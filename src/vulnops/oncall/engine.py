"""One escalation of one page, in one transaction: read the page, decide, act, defer the next.

Level-triggered and idempotent. The escalation runs only when it is the one due
(``next_step``/``next_loop``) and the page is still open; it resolves the step's targets now (who
is on call on a schedule at this instant, everyone in a layer's rotation, a user), records one
notification per person and channel — a unique key, so a second run adds none — queues each
message in the same transaction, moves the page to the next escalation and defers it. A worker
killed anywhere before the commit leaves nothing done and the job is retried; after it, the
retried job finds the page moved on and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.oncall import escalation, paging, service
from vulnops.oncall import schedule as pure
from vulnops.oncall.channels import CHANNELS, Message
from vulnops.oncall.models import Page, PageNotification
from vulnops.settings import Settings


@dataclass(frozen=True)
class Outcome:
    """What one escalation did: who was told (emails), and what is due next (None: nothing)."""

    ran: bool
    notified: tuple[str, ...] = ()
    next_due: escalation.Due | None = None


async def targets(session: AsyncSession, wanted: list[str], *, at: datetime) -> list[User]:
    """The enabled users a step's targets name at this instant, each once, in order."""
    schedules = {t.split(":", 1)[1].split("/", 1)[0] for t in wanted if not t.startswith("user:")}
    stored = {
        found.schedule.key: found
        for found in await service.load_many(session, keys=sorted(schedules))
    }
    emails: list[str] = []
    for target in wanted:
        kind, ref = target.split(":", 1)
        if kind == "user":
            emails.append(ref)
        elif kind == "schedule" and ref in stored:
            shift = pure.who(stored[ref].schedule, at, disabled=stored[ref].disabled)
            if shift.user is not None:
                emails.append(shift.user)
        elif kind == "layer":
            key, name = ref.split("/", 1)
            layers = stored[key].schedule.layers if key in stored else ()
            for layer in layers:
                if layer.name == name:
                    emails.extend(pure.current_members(layer, at))
    found = {
        user.email: user
        for user in await session.scalars(
            select(User).where(User.email.in_(emails), User.disabled_at.is_(None))
        )
    }
    return [found[email] for email in dict.fromkeys(emails) if email in found]


async def escalate(
    session: AsyncSession, *, page_id: int, step: int, loop: int, now: datetime, settings: Settings
) -> Outcome:
    page = await session.get(Page, page_id, with_for_update=True)
    if (
        page is None
        or page.status != "triggered"
        or (page.next_step, page.next_loop)
        != (
            step,
            loop,
        )
    ):
        return Outcome(ran=False)
    steps = page.policy.get("steps") or []
    people = await targets(session, list(steps[step]["targets"]), at=now) if steps else []
    told = []
    for user in people:
        for channel in CHANNELS.values():
            created = await session.scalar(
                insert(PageNotification)
                .values(
                    page_id=page.id, step=step, loop=loop, user_id=user.id, channel=channel.name
                )
                .on_conflict_do_nothing()
                .returning(PageNotification.id)
            )
            if created is None:
                continue
            message = Message(
                page_id=page.id,
                notification_id=created,
                to_email=user.email,
                subject=page.subject,
                details=page.details,
                urgency=page.urgency,
                step=step,
                loop=loop,
                page_url=f"{settings.public_url.rstrip('/')}/pages/{page.id}",
                ack_url=f"{settings.public_url.rstrip('/')}/pages/ack?token="
                f"{paging.ack_token(settings, created)}",
            )
            if await channel.queue(session, message, settings=settings):
                told.append(user.email)
    await audit.record(
        session,
        subject=paging.subject(page.id),
        kind="page.notified" if step == 0 and loop == 0 else "page.escalated",
        actor="system",
        data={"step": step, "loop": loop, "notified": told, "case_id": page.case_id},
    )
    due = escalation.after(page.policy, step, loop)
    if due is None:
        page.next_step, page.next_loop = len(steps), loop  # nothing more is due
    else:
        page.next_step, page.next_loop = due.step, due.loop
        await paging.defer_escalation(session, page.id, due, now=now)
    return Outcome(ran=True, notified=tuple(told), next_due=due)
