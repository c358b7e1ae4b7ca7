"""One escalation of one page, in one transaction: read the page, decide, act, defer the next.

Level-triggered and idempotent. The escalation runs only when it is the one due
(``next_step``/``next_loop``) and the page is still open; it resolves the step's targets now (who
is on call on a schedule at this instant, everyone in a layer's rotation, a user), and tells
each person by their contact rules: a notification per person, channel and delay — a unique
key, so a second run adds none — its message queued in the same transaction, and a job for
each later rule; then it moves the page to the next escalation and defers it. A worker
killed anywhere before the commit leaves nothing done and the job is retried; after it, the
retried job finds the page moved on and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.db.database import raw_connection
from vulnops.jobcontext import bound
from vulnops.oncall import contacts, escalation, mirrors, paging, service
from vulnops.oncall import schedule as pure
from vulnops.oncall.channels import CHANNELS, Message
from vulnops.oncall.models import ContactRule, Page, PageNotification
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
        for found in await service.load_many(
            session, keys=sorted(schedules), around=service.near(at)
        )
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


def _message(
    page: Page,
    notification_id: int,
    email: str,
    *,
    step: int,
    loop: int,
    address: str | None,
    settings: Settings,
) -> Message:
    base = settings.public_url.rstrip("/")
    return Message(
        page_id=page.id,
        notification_id=notification_id,
        to_email=email,
        subject=page.subject,
        details=page.details,
        urgency=page.urgency,
        step=step,
        loop=loop,
        page_url=mirrors.page_url(settings, page.id),
        ack_url=f"{base}/pages/ack?token={paging.ack_token(settings, notification_id)}",
        address=address,
    )


async def chat_message(
    session: AsyncSession, *, notification_id: int, settings: Settings
) -> tuple[str, str] | None:
    """A chat notification's address and text; None when the page was acknowledged or the
    rule removed before it was posted."""
    found = (
        await session.execute(
            select(PageNotification, Page, ContactRule.address, User.email)
            .join(Page, Page.id == PageNotification.page_id)
            .join(ContactRule, ContactRule.id == PageNotification.rule_id)
            .join(User, User.id == PageNotification.user_id)
            .where(PageNotification.id == notification_id)
        )
    ).first()
    if found is None:
        return None
    notification, page, address, email = found
    if page.status != "triggered" or not address:
        return None
    message = _message(
        page,
        notification.id,
        email,
        step=notification.step,
        loop=notification.loop,
        address=address,
        settings=settings,
    )
    return address, message.chat_text()


async def notify(
    session: AsyncSession,
    page: Page,
    user: User,
    rule: contacts.Rule,
    *,
    step: int,
    loop: int,
    settings: Settings,
) -> bool:
    """Tell one person through one of their rules, once (False: told already, or the channel
    cannot reach them)."""
    created = await session.scalar(
        insert(PageNotification)
        .values(
            page_id=page.id,
            step=step,
            loop=loop,
            user_id=user.id,
            channel=rule.channel,
            delay_minutes=rule.delay_minutes,
            rule_id=rule.id,
        )
        .on_conflict_do_nothing()
        .returning(PageNotification.id)
    )
    if created is None:
        return False
    message = _message(
        page, created, user.email, step=step, loop=loop, address=rule.address, settings=settings
    )
    return await CHANNELS[rule.channel].queue(session, message, settings=settings)


async def escalate(
    session: AsyncSession, *, page_id: int, step: int, loop: int, now: datetime, settings: Settings
) -> Outcome:
    page = await session.get(Page, page_id, with_for_update=True)
    if (
        page is None
        or page.status != "triggered"
        or (page.next_step, page.next_loop) != (step, loop)
    ):
        return Outcome(ran=False)
    steps = page.policy.get("steps") or []
    people = await targets(session, list(steps[step]["targets"]), at=now) if steps else []
    rules = await contacts.of_users(session, user_ids=[user.id for user in people])
    told: dict[str, None] = {}  # in order, each once
    for user in people:
        for rule in contacts.matching(rules[user.id], page.urgency):
            if rule.delay_minutes:
                await defer_notification(session, page.id, step, loop, user.id, rule, now=now)
            elif await notify(session, page, user, rule, step=step, loop=loop, settings=settings):
                told[user.email] = None
    await audit.record(
        session,
        subject=paging.subject(page.id),
        kind="page.notified" if step == 0 and loop == 0 else "page.escalated",
        actor="system",
        data={"step": step, "loop": loop, "notified": list(told), "case_id": page.case_id},
    )
    due = escalation.after(page.policy, step, loop)
    if due is None:
        page.next_step, page.next_loop = len(steps), loop  # nothing more is due
    else:
        page.next_step, page.next_loop = due.step, due.loop
        await paging.defer_escalation(session, page.id, due, now=now)
    return Outcome(ran=True, notified=tuple(told), next_due=due)


async def defer_notification(
    session: AsyncSession,
    page_id: int,
    step: int,
    loop: int,
    user_id: int,
    rule: contacts.Rule,
    *,
    now: datetime,
) -> None:
    """A rule's later notification, as a job for its moment (in the escalation's transaction)."""
    from vulnops.oncall.tasks import notify_later  # noqa: PLC0415 - the tasks import this module

    connection = await raw_connection(session)
    await (
        bound(notify_later)
        .configure(connection=connection, schedule_at=now + timedelta(minutes=rule.delay_minutes))
        .defer_async(page_id=page_id, step=step, loop=loop, user_id=user_id, rule_id=rule.id)
    )


async def notify_later(
    session: AsyncSession,
    *,
    page_id: int,
    step: int,
    loop: int,
    user_id: int,
    rule_id: int,
    settings: Settings,
) -> bool:
    """A rule's delayed notification: sent if the page is still unacknowledged, the rule and
    the person still there (a retried job tells nobody twice)."""
    page = await session.get(Page, page_id, with_for_update=True)
    row = await session.get(ContactRule, rule_id)
    user = await session.get(User, user_id)
    if (
        page is None
        or page.status != "triggered"
        or row is None
        or row.user_id != user_id
        or user is None
        or user.disabled_at is not None
    ):
        return False
    rule = contacts.Rule(row.id, row.channel, row.delay_minutes, row.urgency, row.address)
    if not await notify(session, page, user, rule, step=step, loop=loop, settings=settings):
        return False
    await audit.record(
        session,
        subject=paging.subject(page.id),
        kind="page.reminded",
        actor="system",
        data={
            "step": step,
            "loop": loop,
            "notified": [user.email],
            "channel": rule.channel,
            "after_minutes": rule.delay_minutes,
            "case_id": page.case_id,
        },
    )
    return True
