"""JSON API of the conversations about advisories: the customer's side (their tenant's
conversation about an advisory they received) and the team's (every tenant's conversation
about a case's advisory, and the questions waiting across cases)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, PageNumber
from vulnops.db.deps import SessionDep
from vulnops.db.pagination import MAX_PER_PAGE, PageOut
from vulnops.diskspace import ensure_upload_room
from vulnops.errors import NotFound
from vulnops.intake import attachments as files
from vulnops.intake.attachments import StoredFile
from vulnops.notify import conversation, conversation_files, portal
from vulnops.notify.api import CUSTOMER, READ, WRITE, tenant_of
from vulnops.notify.models import AdvisoryAttachment, AdvisoryMessage
from vulnops.notify.schemas import (
    AdvisoryMessageOut,
    ConversationOut,
    MessageAttachmentOut,
    MessageIn,
    ThreadOut,
    WaitingQuestion,
)
from vulnops.notify.service import find
from vulnops.settings import Settings

router = APIRouter(tags=["notification"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _written(message: AdvisoryMessage, author: Principal) -> AdvisoryMessageOut:
    return AdvisoryMessageOut(
        id=message.id,
        from_staff=message.from_staff,
        author=author.actor,
        body=message.body,
        created_at=message.created_at,
    )


@router.get("/api/advisories/{advisory_id:int}/messages")
async def my_conversation(
    advisory_id: Id, session: SessionDep, principal: Principal = require(CUSTOMER)
) -> list[AdvisoryMessageOut]:
    """Your tenant's conversation with the response team about the advisory, oldest first."""
    return await conversation.tenant_thread(
        session, advisory_id=advisory_id, tenant_id=tenant_of(principal)
    )


@router.post("/api/advisories/{advisory_id:int}/messages", status_code=201)
async def ask(
    advisory_id: Id,
    body: MessageIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> AdvisoryMessageOut:
    """Ask the response team, or tell them what you see (Markdown); they answer by the time
    the advisory's severity gives."""
    message = await conversation.ask(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_of(principal),
        author=principal,
        body=body.body,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    await session.commit()
    return _written(message, principal)


async def _attached(
    request: Request,
    session: SessionDep,
    upload: list[UploadFile],
    attach: Callable[[list[StoredFile]], Awaitable[list[AdvisoryAttachment]]],
) -> list[MessageAttachmentOut]:
    settings = _settings(request)
    ensure_upload_room(request)
    stored: list[StoredFile] = []
    try:
        stored = await files.store_all(
            upload, directory=settings.attachments_dir, limit=settings.max_attachment_bytes
        )
        rows = await attach(stored)
        await session.commit()
    except BaseException:
        files.discard(settings.attachments_dir, stored)
        raise
    return [MessageAttachmentOut(id=r.id, filename=r.filename, size=r.size) for r in rows]


@router.post(
    "/api/advisories/{advisory_id:int}/messages/{message_id:int}/attachments", status_code=201
)
async def attach_to_mine(
    advisory_id: Id,
    message_id: Id,
    request: Request,
    session: SessionDep,
    upload: Annotated[list[UploadFile], File(alias="file")],
    principal: Principal = require(CUSTOMER),
) -> list[MessageAttachmentOut]:
    """Attach files (form field ``file``, repeatable) to one of your tenant's messages: each
    within the size of a report's attachment, all within your daily and the conversation's
    quotas. Download them from ``/advisories/{advisory_id}/attachments/{id}``."""
    tenant_id = tenant_of(principal)
    await portal.sent_versions(session, advisory_id, tenant_id)  # 404 unless its audience

    async def attach(stored: list[StoredFile]) -> list[AdvisoryAttachment]:
        return await conversation_files.add_to(
            session,
            message_id=message_id,
            advisory_id=advisory_id,
            tenant_id=tenant_id,
            from_staff=False,
            uploader=principal,
            files=stored,
            settings=_settings(request),
        )

    return await _attached(request, session, upload, attach)


@router.post(
    "/api/cases/{case_id:int}/advisory/conversations/{tenant_id:int}/messages/{message_id:int}"
    "/attachments",
    status_code=201,
)
async def attach_to_answer(
    case_id: Id,
    tenant_id: Id,
    message_id: Id,
    request: Request,
    session: SessionDep,
    upload: Annotated[list[UploadFile], File(alias="file")],
    principal: Principal = require(WRITE),
) -> list[MessageAttachmentOut]:
    """Attach files to one of the team's messages in the tenant's conversation."""
    advisory = await conversation.audience(session, case_id=case_id, tenant_id=tenant_id)

    async def attach(stored: list[StoredFile]) -> list[AdvisoryAttachment]:
        return await conversation_files.add_to(
            session,
            message_id=message_id,
            advisory_id=advisory.id,
            tenant_id=tenant_id,
            from_staff=True,
            uploader=principal,
            files=stored,
            settings=_settings(request),
        )

    return await _attached(request, session, upload, attach)


@router.get("/api/cases/{case_id:int}/advisory/conversations", dependencies=[require(READ)])
async def conversations_of(
    case_id: Id,
    session: SessionDep,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> PageOut[ConversationOut]:
    """The tenants' conversations about the case's advisory, those waiting first."""
    advisory = await find(session, case_id=case_id)
    if advisory is None:
        raise NotFound(f"case {case_id} has no advisory yet")
    found = await conversation.conversations(
        session, advisory_id=advisory.id, now=datetime.now(UTC), page=page, per_page=per_page
    )
    return PageOut[ConversationOut].of(found, lambda c: c)


@router.get(
    "/api/cases/{case_id:int}/advisory/conversations/{tenant_id:int}",
    dependencies=[require(READ)],
)
async def conversation_with(case_id: Id, tenant_id: Id, session: SessionDep) -> ThreadOut:
    head, messages = await conversation.staff_thread(
        session, case_id=case_id, tenant_id=tenant_id, now=datetime.now(UTC)
    )
    return ThreadOut(conversation=head, messages=messages)


@router.post("/api/cases/{case_id:int}/advisory/conversations/{tenant_id:int}", status_code=201)
async def answer(
    case_id: Id,
    tenant_id: Id,
    body: MessageIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(WRITE),
) -> AdvisoryMessageOut:
    """Answer the tenant (their security contacts are told, without detail, to read it in the
    portal)."""
    message = await conversation.answer(
        session,
        case_id=case_id,
        tenant_id=tenant_id,
        author=principal,
        body=body.body,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    await session.commit()
    return _written(message, principal)


@router.get("/api/questions")
async def waiting_questions(
    session: SessionDep,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
    principal: Principal = require(READ),
) -> PageOut[WaitingQuestion]:
    """The customers' questions waiting for an answer across cases, the soonest due first."""
    found = await conversation.waiting(
        session, viewer=principal, now=datetime.now(UTC), per_page=per_page
    )
    return PageOut[WaitingQuestion].of(found, lambda q: q)
