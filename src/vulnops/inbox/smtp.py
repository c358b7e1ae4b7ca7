"""The mail catcher: a real SMTP server (aiosmtpd) on the web server's own event loop, keeping
every message it is given. It relays nothing and looks nothing up (its host name is given, so
aiosmtpd does not ask the resolver for one)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, Envelope, Session

from vulnops.db.database import Database
from vulnops.inbox import service

HOSTNAME = "vulnops-demo-inbox"


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else content.decode(errors="replace")


class Catcher:
    """The aiosmtpd handler: parse the message and keep it."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def handle_DATA(  # noqa: N802 - aiosmtpd's name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        async with self.database.session() as db:
            await service.record(
                db,
                channel="email",
                sender=str(envelope.mail_from or ""),
                recipient=", ".join(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                body=_text(message),
                headers={key: str(value) for key, value in message.items()},
                now=datetime.now(UTC),
            )
            await db.commit()
        return "250 Message kept"


async def start(database: Database, *, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` until the returned server is closed."""
    loop = asyncio.get_running_loop()
    handler = Catcher(database)
    return await loop.create_server(
        lambda: SMTP(handler, hostname=HOSTNAME, ident="vulnops demo inbox"), host=host, port=port
    )
