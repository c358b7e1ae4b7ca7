"""How a person is told of a page. A channel queues its message in the caller's transaction
(so a notification exists exactly when the escalation that made it committed); the email
channel uses the mail path every other email takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.mail import service as mail
from vulnops.settings import Settings


@dataclass(frozen=True)
class Message:
    page_id: int
    notification_id: int
    to_email: str
    subject: str
    details: str
    urgency: str
    step: int
    loop: int
    page_url: str
    ack_url: str


class Channel(Protocol):
    name: str

    async def queue(self, session: AsyncSession, message: Message, *, settings: Settings) -> bool:
        """Queue the message; False when this channel cannot reach anyone here."""


class EmailChannel:
    name = "email"

    async def queue(self, session: AsyncSession, message: Message, *, settings: Settings) -> bool:
        queued = await mail.queue(
            session,
            settings=settings,
            to=message.to_email,
            template="page",
            context={"page": message},
            kind="page",
            about=f"page:{message.page_id}:{message.notification_id}",
        )
        return queued is not None


CHANNELS: dict[str, Channel] = {"email": EmailChannel()}
