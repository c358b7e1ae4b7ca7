"""Queue an email in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection
from vulnops.jobcontext import bound
from vulnops.mail.models import OutboundEmail
from vulnops.mail.tasks import send_email
from vulnops.settings import Settings
from vulnops.ui.text import render_text


async def queued(session: AsyncSession, *, kind: str, about: str) -> bool:
    """Whether an email of ``kind`` about ``about`` was queued already (sent or not)."""
    found = await session.scalar(
        select(OutboundEmail.id)
        .where(OutboundEmail.about == about, OutboundEmail.kind == kind)
        .limit(1)
    )
    return found is not None


async def queue(
    session: AsyncSession,
    *,
    settings: Settings,
    to: str,
    template: str,
    context: dict[str, object],
    kind: str,
    about: str,
    language: str | None = None,
) -> OutboundEmail | None:
    """Render ``email/<template>.txt`` (first line ``Subject: …``; in the interface language
    for ``language``, a BCP 47 tag, when given) and queue it; None (and nothing written) when
    SMTP is not configured."""
    if not settings.smtp_enabled:
        return None
    subject, _, body = render_text(f"email/{template}.txt", context, language=language).partition(
        "\n"
    )
    email = OutboundEmail(
        to_address=to,
        subject=subject.removeprefix("Subject:").strip(),
        body=body.lstrip("\n"),
        kind=kind,
        about=about,
    )
    session.add(email)
    await session.flush()
    connection = await raw_connection(session)
    await bound(send_email).configure(connection=connection).defer_async(email_id=email.id)
    return email
