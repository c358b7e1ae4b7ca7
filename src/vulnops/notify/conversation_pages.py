"""The pages of the conversations about advisories: the customer asks from the advisory's page
in the portal; the team reads and answers each tenant's conversation from the case's
advisory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response

from vulnops import i18n
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.cases import service as cases
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.diskspace import ensure_upload_room
from vulnops.intake import attachments as stored_files
from vulnops.intake.api import download
from vulnops.intake.attachments import StoredFile
from vulnops.notify import conversation, conversation_files, portal
from vulnops.notify.api import CUSTOMER, READ, WRITE, tenant_of
from vulnops.notify.conversation import MESSAGE_CHARS
from vulnops.settings import Settings
from vulnops.ui.forms import form_action
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)
Uploads = Annotated[list[UploadFile] | None, File(alias="files")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _store(request: Request, upload: list[UploadFile] | None) -> list[StoredFile]:
    """The form's files, stored (those the form left empty skipped); removed again by the
    caller when the message is refused."""
    if any(item.filename for item in upload or []):
        ensure_upload_room(request)
    settings = _settings(request)
    return await stored_files.store_all(
        upload or [], directory=settings.attachments_dir, limit=settings.max_attachment_bytes
    )


async def _posted(
    request: Request,
    session: SessionDep,
    stored: list[StoredFile],
    work: Callable[[], Awaitable[object]],
    *,
    done: str,
    back: str,
) -> Response:
    try:
        return await form_action(request, session, work, done=lambda _: done, back=back)
    except BaseException:
        stored_files.discard(_settings(request).attachments_dir, stored)
        raise


@router.post("/advisories/{advisory_id:int}/messages")
async def ask(
    request: Request,
    advisory_id: Id,
    session: SessionDep,
    body: Annotated[Text, Form(max_length=MESSAGE_CHARS)] = "",
    upload: Uploads = None,
    principal: Principal = require(CUSTOMER),
) -> Response:
    tenant_id = tenant_of(principal)
    stored = await _store(request, upload)

    async def work() -> object:
        return await conversation.ask(
            session,
            advisory_id=advisory_id,
            tenant_id=tenant_id,
            author=principal,
            body=body,
            settings=_settings(request),
            now=datetime.now(UTC),
            files=stored,
        )

    with i18n.speaking(await portal.tenant_language(session, tenant_id=tenant_id)):
        return await _posted(
            request,
            session,
            stored,
            work,
            done=i18n.gettext("Sent to the security response team; you will hear back here."),
            back=f"/advisories/{advisory_id}#conversation",
        )


@router.get("/advisories/{advisory_id:int}/attachments/{attachment_id:int}")
async def my_attachment(
    request: Request,
    advisory_id: Id,
    attachment_id: Id,
    session: SessionDep,
    principal: Principal = require(CUSTOMER),
) -> FileResponse:
    row = await conversation_files.attachment(
        session,
        advisory_id=advisory_id,
        tenant_id=tenant_of(principal),
        attachment_id=attachment_id,
    )
    return download(_settings(request), row)


@router.get(
    "/cases/{case_id:int}/advisory/conversations/{tenant_id:int}",
    response_class=HTMLResponse,
    dependencies=[require(READ)],
)
async def conversation_page(
    request: Request, case_id: Id, tenant_id: Id, session: SessionDep
) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    head, messages = await conversation.staff_thread(
        session, case_id=case_id, tenant_id=tenant_id, now=datetime.now(UTC)
    )
    return render(
        request,
        "notify/conversation.html",
        {
            "case": case,
            "tab": "advisory",
            "conversation": head,
            "messages": messages,
            "limit": MESSAGE_CHARS,
        },
    )


@router.post("/cases/{case_id:int}/advisory/conversations/{tenant_id:int}")
async def answer(
    request: Request,
    case_id: Id,
    tenant_id: Id,
    session: SessionDep,
    body: Annotated[Text, Form(max_length=MESSAGE_CHARS)] = "",
    upload: Uploads = None,
    principal: Principal = require(WRITE),
) -> Response:
    stored = await _store(request, upload)

    async def work() -> object:
        return await conversation.answer(
            session,
            case_id=case_id,
            tenant_id=tenant_id,
            author=principal,
            body=body,
            settings=_settings(request),
            now=datetime.now(UTC),
            files=stored,
        )

    return await _posted(
        request,
        session,
        stored,
        work,
        done="Answer sent; the tenant's contacts were told to read it in the portal.",
        back=f"/cases/{case_id}/advisory/conversations/{tenant_id}",
    )


@router.get(
    "/cases/{case_id:int}/advisory/conversations/{tenant_id:int}/attachments/{attachment_id:int}",
    dependencies=[require(READ)],
)
async def team_attachment(
    request: Request, case_id: Id, tenant_id: Id, attachment_id: Id, session: SessionDep
) -> FileResponse:
    advisory = await conversation.audience(session, case_id=case_id, tenant_id=tenant_id)
    row = await conversation_files.attachment(
        session, advisory_id=advisory.id, tenant_id=tenant_id, attachment_id=attachment_id
    )
    return download(_settings(request), row)
