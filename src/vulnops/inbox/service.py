"""What the inbox keeps, and pointing the demo's tenants at it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.pagination import Page, paginate_scalars
from vulnops.errors import NotFound
from vulnops.inbox.models import InboxMessage
from vulnops.inbox.schemas import InboxMessageOut

# A message larger than this is kept cut (the catcher is for reading, not for archiving).
MAX_BODY = 200_000
CHANNELS = ("email", "webhook")


async def record(
    session: AsyncSession,
    *,
    channel: str,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    headers: dict[str, Any],
    now: datetime,
) -> InboxMessage:
    message = InboxMessage(
        channel=channel,
        sender=sender[:1000],
        recipient=recipient[:4000],
        subject=subject[:1000],
        body=body[:MAX_BODY].replace("\x00", ""),
        headers=headers,
        received_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def list_messages(
    session: AsyncSession, *, channel: str | None, page: int, per_page: int = 50
) -> Page[InboxMessageOut]:
    """The newest first, one page counted in SQL."""
    stmt = select(InboxMessage).order_by(InboxMessage.received_at.desc(), InboxMessage.id.desc())
    if channel:
        stmt = stmt.where(InboxMessage.channel == channel)
    found = await paginate_scalars(session, stmt, page=page, per_page=per_page)
    return found.map(InboxMessageOut.model_validate)


async def get_message(session: AsyncSession, *, message_id: int) -> InboxMessageOut:
    message = await session.get(InboxMessage, message_id)
    if message is None:
        raise NotFound(f"no message {message_id} in the inbox")
    return InboxMessageOut.model_validate(message)


async def point_demo_webhooks(session: AsyncSession, *, base_url: str) -> int:
    """Send the webhooks of the demo's tenants to this server's receiver: those whose host is
    under ``.example`` (a name that never resolves, RFC 2606) or already a receiver's URL.
    Returns how many contacts changed; run on every demo start (the port may have changed)."""
    result = await session.execute(
        text(
            """
            UPDATE tenant_contacts c
            SET address = :base || '/inbox/webhooks/' || t.key
            FROM tenants t
            WHERE c.tenant_id = t.id AND c.channel = 'webhook'
              AND (c.address ~* '^https?://[^/]*\\.example(:[0-9]+)?(/|$)'
                   OR c.address LIKE '%/inbox/webhooks/%')
              AND c.address <> :base || '/inbox/webhooks/' || t.key
            """
        ),
        {"base": base_url.rstrip("/")},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
