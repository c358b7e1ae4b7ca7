"""A conversation per advisory and tenant: the tenant's administrators ask, or say what they
see on their side ("we still see the old version on resource X"); the response team answers
from the advisory's page. Each side is told by email, the tenant without any detail of the
vulnerability (like the advisory's notice).

A conversation's row says whether a question waits and by when it must be answered (by the
case's rating, :mod:`vulnops.customers_config`); it is written with each message, in one
upsert, so two messages at once cannot both start (or both end) the wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case as when
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.db.pagination import Page
from vulnops.errors import Invalid, NotFound
from vulnops.i18n import N_
from vulnops.intake.attachments import StoredFile
from vulnops.mail import service as mail
from vulnops.notify import conversation_files, portal
from vulnops.notify.models import Advisory, AdvisoryMessage, AdvisoryRecipient, Conversation
from vulnops.notify.rendering import TLP
from vulnops.notify.schemas import AdvisoryMessageOut, ConversationOut, WaitingQuestion
from vulnops.notify.service import find, subject
from vulnops.notify.withdrawal import refuse_if_withdrawn
from vulnops.settings import Settings
from vulnops.tenants import service as tenants
from vulnops.tenants.models import Tenant

MESSAGE_CHARS = 10_000
TEAM = N_("Security response team")  # what a tenant reads as the author of the team's


def _body(body: str) -> str:
    body = body.strip()
    if not body:
        raise Invalid("body: write a message (it is empty)", field="body")
    if len(body) > MESSAGE_CHARS:
        raise Invalid(f"body: at most {MESSAGE_CHARS} characters", field="body")
    return body


async def _post(
    session: AsyncSession,
    *,
    advisory: Advisory,
    tenant_id: int,
    from_staff: bool,
    author: Principal,
    body: str,
    due: datetime | None,
    now: datetime,
) -> AdvisoryMessage:
    refuse_if_withdrawn(advisory, "its conversation")
    message = AdvisoryMessage(
        advisory_id=advisory.id,
        tenant_id=tenant_id,
        from_staff=from_staff,
        author_id=author.user_id,
        body=body,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    # The team's message ends the wait; the tenant's starts one, unless one is running.
    table = Conversation.__table__
    await session.execute(
        insert(Conversation)
        .values(
            advisory_id=advisory.id,
            tenant_id=tenant_id,
            messages=1,
            last_message_at=now,
            waiting_since=None if from_staff else now,
            answer_due=due,
        )
        .on_conflict_do_update(
            index_elements=["advisory_id", "tenant_id"],
            set_={
                "messages": table.c.messages + 1,
                "last_message_at": now,
                "waiting_since": None if from_staff else func.coalesce(table.c.waiting_since, now),
                "answer_due": None if from_staff else func.coalesce(table.c.answer_due, due),
            },
        )
    )
    await audit.record(
        session,
        subject=subject(advisory.id),
        kind="advisory.answered" if from_staff else "advisory.asked",
        actor=author.actor,
        data={"tenant_id": tenant_id, "message_id": message.id},
    )
    return message


async def ask(
    session: AsyncSession,
    *,
    advisory_id: int,
    tenant_id: int,
    author: Principal,
    body: str,
    settings: Settings,
    now: datetime,
    files: Sequence[StoredFile] = (),
) -> AdvisoryMessage:
    """A message of the tenant's administrator, with its files (404 unless the advisory was
    sent to them); the case's owner and responder are told by email."""
    text_ = _body(body)
    advisory, _ = await portal.sent_versions(session, advisory_id, tenant_id)
    case = await cases.get_case(session, case_id=advisory.case_id)
    due = now + timedelta(hours=settings.answer_hours(case.rating))
    message = await _post(
        session,
        advisory=advisory,
        tenant_id=tenant_id,
        from_staff=False,
        author=author,
        body=text_,
        due=due,
        now=now,
    )
    await conversation_files.attach(
        session, message=message, uploader=author, files=files, settings=settings
    )
    await _tell_team(
        session, settings=settings, case=case, tenant_id=tenant_id, body=text_, due=due
    )
    return message


async def answer(
    session: AsyncSession,
    *,
    case_id: int,
    tenant_id: int,
    author: Principal,
    body: str,
    settings: Settings,
    now: datetime,
    files: Sequence[StoredFile] = (),
) -> AdvisoryMessage:
    """The team's message to a tenant of the advisory's audience, with its files (404 for
    another tenant); the tenant's security contacts are told by email that an answer waits
    in the portal."""
    text_ = _body(body)
    advisory = await audience(session, case_id=case_id, tenant_id=tenant_id)
    message = await _post(
        session,
        advisory=advisory,
        tenant_id=tenant_id,
        from_staff=True,
        author=author,
        body=text_,
        due=None,
        now=now,
    )
    await conversation_files.attach(
        session, message=message, uploader=author, files=files, settings=settings
    )
    await _tell_tenant(session, settings=settings, advisory=advisory, tenant_id=tenant_id)
    return message


async def audience(session: AsyncSession, *, case_id: int, tenant_id: int) -> Advisory:
    advisory = await find(session, case_id=case_id)
    if advisory is None or await session.get(AdvisoryRecipient, (advisory.id, tenant_id)) is None:
        raise NotFound(f"no tenant {tenant_id} among the recipients of case {case_id}'s advisory")
    return advisory


async def _tell_team(
    session: AsyncSession,
    *,
    settings: Settings,
    case: Case,
    tenant_id: int,
    body: str,
    due: datetime,
) -> None:
    tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
    team = [i for i in (case.owner_id, case.responder_id) if i is not None]
    addresses = list(
        await session.scalars(select(User.email).where(User.id.in_(team)).distinct())
    ) or ([settings.triage_email] if settings.triage_email else [])
    link = f"{settings.public_url.rstrip('/')}/cases/{case.id}/advisory/conversations/{tenant_id}"
    for address in addresses:
        await mail.queue(
            session,
            settings=settings,
            to=address,
            template="advisory_question",
            context={"case": case, "tenant": tenant, "body": body, "due": due, "link": link},
            kind="advisory.question",
            about=f"case:{case.id}",
        )


async def _tell_tenant(
    session: AsyncSession, *, settings: Settings, advisory: Advisory, tenant_id: int
) -> None:
    case = await cases.get_case(session, case_id=advisory.case_id)
    tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
    link = f"{settings.public_url.rstrip('/')}/advisories/{advisory.id}#conversation"
    for contact in await tenants.contacts(session, tenant_id=tenant_id):
        if contact.channel != "email":
            continue
        await mail.queue(
            session,
            settings=settings,
            to=contact.address,
            template="advisory_answer",
            context={
                "tracking_id": case.tracking_id,
                "tenant": tenant,
                "tlp": TLP,
                "link": link,
                "contact": settings.notify_contact_email,
            },
            kind="advisory.answer",
            about=f"advisory:{advisory.id}:tenant:{tenant_id}",
            language=tenant.language,
        )


async def thread(
    session: AsyncSession, *, advisory_id: int, tenant_id: int, for_staff: bool
) -> list[AdvisoryMessageOut]:
    """The conversation, oldest first. A tenant reads the team's messages as the team's; the
    team reads who wrote each."""
    rows = await session.execute(
        select(AdvisoryMessage, User.display_name, User.email)
        .join(User, User.id == AdvisoryMessage.author_id)
        .where(AdvisoryMessage.advisory_id == advisory_id, AdvisoryMessage.tenant_id == tenant_id)
        .order_by(AdvisoryMessage.id)
    )
    files = await conversation_files.of_conversation(
        session, advisory_id=advisory_id, tenant_id=tenant_id
    )
    return [
        AdvisoryMessageOut(
            id=m.id,
            from_staff=m.from_staff,
            author=(name or email) if for_staff or not m.from_staff else TEAM,
            body=m.body,
            created_at=m.created_at,
            attachments=files.get(m.id, []),
        )
        for m, name, email in rows.all()
    ]


async def tenant_thread(
    session: AsyncSession, *, advisory_id: int, tenant_id: int
) -> list[AdvisoryMessageOut]:
    """The tenant's conversation (404 unless the advisory was sent to the tenant)."""
    await portal.sent_versions(session, advisory_id, tenant_id)
    return await thread(session, advisory_id=advisory_id, tenant_id=tenant_id, for_staff=False)


async def staff_thread(
    session: AsyncSession, *, case_id: int, tenant_id: int, now: datetime
) -> tuple[ConversationOut, list[AdvisoryMessageOut]]:
    advisory = await audience(session, case_id=case_id, tenant_id=tenant_id)
    found = await conversations(session, advisory_id=advisory.id, now=now, tenant_id=tenant_id)
    if found.items:
        head = found.items[0]
    else:  # nobody wrote yet
        tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
        head = ConversationOut(
            advisory_id=advisory.id,
            tenant_id=tenant_id,
            tenant_key=tenant.key,
            tenant_name=tenant.name,
            messages=0,
            last_message_at=None,
            waiting_since=None,
            answer_due=None,
            overdue=False,
        )
    messages = await thread(session, advisory_id=advisory.id, tenant_id=tenant_id, for_staff=True)
    return head, messages


async def conversations(
    session: AsyncSession,
    *,
    advisory_id: int,
    now: datetime,
    tenant_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[ConversationOut]:
    """The advisory's conversations, those waiting for an answer first (soonest due first),
    then the latest."""
    per_page, page = min(max(per_page, 1), 200), max(page, 1)
    where = [Conversation.advisory_id == advisory_id]
    if tenant_id is not None:
        where.append(Conversation.tenant_id == tenant_id)
    total = await session.scalar(select(func.count()).select_from(Conversation).where(*where))
    rows = await session.execute(
        select(Conversation, Tenant.key, Tenant.name)
        .join(Tenant, Tenant.id == Conversation.tenant_id)
        .where(*where)
        .order_by(
            when((Conversation.waiting_since.is_(None), 1), else_=0),
            Conversation.answer_due,
            Conversation.last_message_at.desc(),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [
        ConversationOut(
            advisory_id=c.advisory_id,
            tenant_id=c.tenant_id,
            tenant_key=key,
            tenant_name=name,
            messages=c.messages,
            last_message_at=c.last_message_at,
            waiting_since=c.waiting_since,
            answer_due=c.answer_due,
            overdue=c.answer_due is not None and c.answer_due < now,
        )
        for c, key, name in rows.all()
    ]
    return Page(items, int(total or 0), page, per_page)


_WAITING = """
FROM advisory_conversations v
JOIN advisories a ON a.id = v.advisory_id
JOIN cases c ON c.id = a.case_id
JOIN tenants t ON t.id = v.tenant_id
WHERE v.waiting_since IS NOT NULL AND NOT (c.id = ANY(CAST(:hidden AS bigint[])))
"""


async def waiting(
    session: AsyncSession, *, viewer: Principal | None, now: datetime, per_page: int = 50
) -> Page[WaitingQuestion]:
    """Every question waiting for the team's answer, the soonest due first (those of cases
    hidden from ``viewer`` left out)."""
    hidden = await access.hidden_ids(session, viewer=viewer)
    total = await session.scalar(text(f"SELECT count(*) {_WAITING}"), {"hidden": hidden})
    rows = await session.execute(
        text(
            "SELECT v.advisory_id, a.case_id, c.tracking_id, c.rating, v.tenant_id, "
            f"t.name AS tenant_name, v.waiting_since, v.answer_due {_WAITING} "
            "ORDER BY v.answer_due, v.advisory_id, v.tenant_id LIMIT :limit"
        ),
        {"hidden": hidden, "limit": per_page},
    )
    items = [
        WaitingQuestion.model_validate({**row._mapping, "overdue": row.answer_due < now})
        for row in rows
    ]
    return Page(items, int(total or 0), 1, per_page)
