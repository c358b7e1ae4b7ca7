"""Files attached to the messages of a conversation about an advisory: stored as a report's
are (streamed, size-limited, hashed, never under the web root), within the same quotas — each
file's size, the bytes one account may upload in a day — and the conversation's own total.
Served only as downloads, to the tenant and to the team."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.errors import Invalid, NotFound
from vulnops.intake import attachment_quota
from vulnops.intake.attachments import StoredFile
from vulnops.notify.models import Advisory, AdvisoryAttachment, AdvisoryMessage
from vulnops.notify.schemas import MessageAttachmentOut
from vulnops.notify.service import subject
from vulnops.notify.withdrawal import refuse_if_withdrawn
from vulnops.settings import Settings


async def attach(
    session: AsyncSession,
    *,
    message: AdvisoryMessage,
    uploader: Principal,
    files: Sequence[StoredFile],
    settings: Settings,
) -> list[AdvisoryAttachment]:
    """Attach stored files to a message, within the uploader's and the conversation's quotas
    (413 naming the quota, nothing written)."""
    if not files:
        return []
    await attachment_quota.take_turn(
        session,
        uploader_id=uploader.user_id,
        holder=f"attachments-conversation:{message.advisory_id}:{message.tenant_id}",
    )
    day = attachment_quota.DAY
    today = (
        select(func.coalesce(func.sum(AdvisoryAttachment.size), 0))
        .where(
            AdvisoryAttachment.uploaded_by == uploader.user_id,
            AdvisoryAttachment.created_at > func.now() - day,
        )
        .scalar_subquery()
    )
    held = (
        select(func.coalesce(func.sum(AdvisoryAttachment.size), 0))
        .where(
            AdvisoryAttachment.advisory_id == message.advisory_id,
            AdvisoryAttachment.tenant_id == message.tenant_id,
        )
        .scalar_subquery()
    )
    used_today, used_here = (await session.execute(select(today, held))).one()
    attachment_quota.enforce(
        adding=sum(stored.size for stored in files),
        used_today=used_today,
        held=used_here,
        holder="conversation",
        holder_limit=(
            "attachment_bytes_per_conversation",
            settings.attachment_bytes_per_conversation,
        ),
        settings=settings,
    )
    rows = [
        AdvisoryAttachment(
            message_id=message.id,
            advisory_id=message.advisory_id,
            tenant_id=message.tenant_id,
            filename=stored.filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_name=stored.storage_name,
            uploaded_by=uploader.user_id,
        )
        for stored in files
    ]
    session.add_all(rows)
    await session.flush()
    await audit.record(
        session,
        subject=subject(message.advisory_id),
        kind="advisory.attachments_added",
        actor=uploader.actor,
        data={
            "tenant_id": message.tenant_id,
            "message_id": message.id,
            "files": [stored.filename for stored in files],
        },
    )
    return rows


async def add_to(
    session: AsyncSession,
    *,
    message_id: int,
    advisory_id: int,
    tenant_id: int,
    from_staff: bool,
    uploader: Principal,
    files: Sequence[StoredFile],
    settings: Settings,
) -> list[AdvisoryAttachment]:
    """Files added to a message already written, by its side of the conversation (the tenant
    to its own messages, the team to the team's): 404 for any other message."""
    message = await session.get(AdvisoryMessage, message_id)
    if message is None or (message.advisory_id, message.tenant_id, message.from_staff) != (
        advisory_id,
        tenant_id,
        from_staff,
    ):
        raise NotFound(f"no message {message_id} of yours in this conversation")
    advisory = await session.get(Advisory, advisory_id)
    assert advisory is not None  # the message is of it
    refuse_if_withdrawn(advisory, "its conversation")
    if not files:
        raise Invalid("file: attach at least one file", field="file")
    return await attach(session, message=message, uploader=uploader, files=files, settings=settings)


async def of_conversation(
    session: AsyncSession, *, advisory_id: int, tenant_id: int
) -> dict[int, list[MessageAttachmentOut]]:
    """The conversation's attachments by message, in one query."""
    rows = await session.scalars(
        select(AdvisoryAttachment)
        .where(
            AdvisoryAttachment.advisory_id == advisory_id,
            AdvisoryAttachment.tenant_id == tenant_id,
        )
        .order_by(AdvisoryAttachment.id)
    )
    found: dict[int, list[MessageAttachmentOut]] = defaultdict(list)
    for row in rows:
        found[row.message_id].append(
            MessageAttachmentOut(id=row.id, filename=row.filename, size=row.size)
        )
    return found


async def attachment(
    session: AsyncSession, *, advisory_id: int, tenant_id: int, attachment_id: int
) -> AdvisoryAttachment:
    """An attachment of this tenant's conversation about this advisory (404 for any other)."""
    row = await session.get(AdvisoryAttachment, attachment_id)
    if row is None or (row.advisory_id, row.tenant_id) != (advisory_id, tenant_id):
        raise NotFound(f"no attachment {attachment_id}")
    return row
