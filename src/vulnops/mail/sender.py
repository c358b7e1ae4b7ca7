"""SMTP delivery with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from vulnops.settings import Settings


def build_message(*, settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="vulnops")
    message.set_content(body)
    return message


def connection(settings: Settings) -> aiosmtplib.SMTP:
    """An SMTP client for many messages: ``async with connection(settings) as smtp: …``."""
    if settings.smtp_host is None:
        raise RuntimeError("SMTP is not configured (VULNOPS_SMTP_HOST)")
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
        timeout=30,
    )


async def send(settings: Settings, message: EmailMessage) -> None:
    async with connection(settings) as smtp:
        await smtp.send_message(message)
