"""How a person is told of a page. A channel queues its message in the caller's transaction
(so a notification exists exactly when the escalation that made it committed): the email
channel through the mail path every other email takes, the chat channel as a job that posts to
the person's own incoming webhook (:mod:`~vulnops.oncall.contacts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection
from vulnops.jobcontext import bound
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
    address: str | None = None  # the rule's (a chat webhook); email goes to ``to_email``

    def chat_text(self) -> str:
        return (
            f"[{self.urgency}] page #{self.page_id}: {chat_escaped(self.subject)}\n"
            f"Acknowledge: <{self.ack_url}> · the page: <{self.page_url}>"
        )


def chat_escaped(text: str) -> str:
    """Text as Slack-compatible markup shows it and nothing more: a subject from a report or an
    alert cannot mention ``<!channel>`` or disguise a link (Slack's three escapes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


class ChatChannel:
    name = "chat"

    async def queue(self, session: AsyncSession, message: Message, *, settings: Settings) -> bool:
        from vulnops.oncall.tasks import chat_person  # noqa: PLC0415 - the tasks import this module

        if not message.address:
            return False
        connection = await raw_connection(session)
        await (
            bound(chat_person)
            .configure(connection=connection)
            .defer_async(notification_id=message.notification_id)
        )
        return True


CHANNELS: dict[str, Channel] = {"email": EmailChannel(), "chat": ChatChannel()}
