"""Human tracking numbers such as ``VULN-2026-000123``: the year of creation and a counter that
never repeats (a PostgreSQL sequence; a rolled-back insert leaves a gap, which is harmless)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def tracking_sql(prefix: str, sequence: str) -> str:
    """The SQL expression that makes the next number, for set-based inserts."""
    return (
        f"'{prefix}-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('{sequence}')::text, 6, '0')"
    )


async def next_tracking_id(session: AsyncSession, *, prefix: str, sequence: str) -> str:
    value = await session.scalar(text(f"SELECT {tracking_sql(prefix, sequence)}"))
    assert value is not None
    return str(value)
