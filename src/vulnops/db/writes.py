"""Writes that can collide with a unique constraint."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.base import Base
from vulnops.errors import Conflict


async def add_unique(session: AsyncSession, row: Base, *, conflict: str) -> None:
    """Insert ``row`` in a savepoint; a unique violation becomes a 409 saying ``conflict`` and
    leaves the rest of the transaction usable."""
    session.add(row)
    await flush_unique(session, conflict=conflict)


async def flush_unique(session: AsyncSession, *, conflict: str) -> None:
    """Write the pending changes in a savepoint; a unique violation becomes a 409 saying
    ``conflict`` and leaves the rest of the transaction usable."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != "23505":
            raise
        raise Conflict(conflict) from None
