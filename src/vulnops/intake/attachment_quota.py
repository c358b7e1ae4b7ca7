"""Attachment quotas: the bytes one account may upload in 24 hours, and the bytes one report may
hold (whoever uploaded them). The size limit per file alone let one researcher store 400 MB in
4 seconds, a file at a time.

Both are sums over ``report_attachments`` from an index (per uploader and time, with the size
included; per report), checked with the new files' exact sizes in the transaction that records
them: past a quota the whole upload is refused (413 naming the quota) and its files removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import TooLarge
from vulnops.intake.attachments import StoredFile
from vulnops.intake.models import Attachment
from vulnops.settings import Settings

DAY = timedelta(days=1)

# Uploads by one account, and to one report or conversation, take their turn (locked always in
# that order, so no two wait for each other in a cycle): concurrent uploads cannot each fit and
# pass a quota together.
_SERIALIZE = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(:account, 0)), "
    "pg_advisory_xact_lock(hashtextextended(:holder, 0))"
)


async def take_turn(session: AsyncSession, *, uploader_id: int, holder: str) -> None:
    """Wait for the uploads of the same account, and to the same holder, to commit."""
    await session.execute(
        _SERIALIZE, {"account": f"attachments-account:{uploader_id}", "holder": holder}
    )


def _size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB"
    return f"{size / 2**10:.1f} KB" if size >= 2**10 else f"{size} bytes"


async def check(
    session: AsyncSession,
    *,
    uploader_id: int,
    report_id: int,
    files: Sequence[StoredFile],
    settings: Settings,
) -> None:
    """Raise 413 when ``files`` would take the uploader past their daily quota, or the report
    past its quota. The locks are held until the caller commits."""
    adding = sum(stored.size for stored in files)
    if not adding:
        return
    await take_turn(session, uploader_id=uploader_id, holder=f"attachments-report:{report_id}")
    today = (
        select(func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.uploaded_by == uploader_id, Attachment.created_at > func.now() - DAY)
        .scalar_subquery()
    )
    held = (
        select(func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.report_id == report_id)
        .scalar_subquery()
    )
    used_today, used_on_report = (await session.execute(select(today, held))).one()
    enforce(
        adding=adding,
        used_today=used_today,
        held=used_on_report,
        holder="report",
        holder_limit=("attachment_bytes_per_report", settings.attachment_bytes_per_report),
        settings=settings,
    )


def enforce(
    *,
    adding: int,
    used_today: int,
    held: int,
    holder: str,
    holder_limit: tuple[str, int],
    settings: Settings,
) -> None:
    """413 when ``adding`` bytes would take the uploader past their daily quota, or what holds
    the files (a report, a conversation) past its own: the quotas every attachment follows."""
    per_day = settings.attachment_bytes_per_account_per_day
    limit_name, per_holder = holder_limit
    if used_today + adding > per_day:
        raise TooLarge(
            f"these files ({_size(adding)}) would pass the {_size(per_day)} of attachments one "
            f"account may upload in 24 hours: {_size(used_today)} are uploaded already",
            limit="attachment_bytes_per_account_per_day",
            limit_bytes=per_day,
        )
    if held + adding > per_holder:
        raise TooLarge(
            f"these files ({_size(adding)}) would pass the {_size(per_holder)} of attachments one "
            f"{holder} may hold: it holds {_size(held)} already",
            limit=limit_name,
            limit_bytes=per_holder,
        )
