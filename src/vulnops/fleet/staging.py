"""A CSV file streamed through ``COPY`` into a temporary staging table numbered by line, and
the checks that read it (each a query returning ``(line, message)`` for every bad row), so that
an import reports every problem with its line and writes nothing when there is one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import raw_connection
from vulnops.errors import Invalid
from vulnops.parsing_limits import MAX_CSV_LINES, MAX_LIST_ITEMS

MAX_LISTED = 20


def _header(chunk: bytes) -> tuple[str, ...]:
    line = chunk.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    return tuple(part.strip() for part in line.split(","))


async def copy_csv(
    session: AsyncSession,
    *,
    table: str,
    columns: tuple[str, ...],
    chunks: AsyncIterator[bytes],
    source: str,
    optional: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """Stream a CSV (with its header) into ``table``, which has ``columns`` and ``optional``
    (text, NULL where the file has none). The header is ``columns``, or ``columns`` followed
    by ``optional``; returns the columns the file has."""
    every = columns + optional
    await session.execute(
        text(
            f"CREATE TEMP TABLE {table} (line bigint GENERATED ALWAYS AS IDENTITY (START 2), "
            f"{', '.join(f'{name} text' for name in every)}) ON COMMIT DROP"
        )
    )
    allowed = " or ".join(",".join(c) for c in ((columns, every) if optional else (columns,)))
    first = await anext(chunks, None)
    if first is None:
        raise Invalid(f"{source}: the file is empty; it needs the header {allowed}")
    header = _header(first)
    if header not in (columns, every):
        raise Invalid(
            f"{source}: line 1: the header must be {allowed}, not {','.join(header)[:200]!r}"
        )
    connection = await raw_connection(session)
    lines = 0  # counted as they arrive, so that a file over the bound stops there
    try:
        async with connection.cursor() as cursor:
            copy_sql = (
                f"COPY {table} ({', '.join(header)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            )
            async with cursor.copy(copy_sql) as copy:
                chunk: bytes | None = first
                while chunk is not None:
                    lines += chunk.count(b"\n")
                    if lines > MAX_CSV_LINES:
                        raise Invalid(
                            f"{source}: more than {MAX_CSV_LINES:,} lines; import it in parts "
                            "(nothing imported)"
                        )
                    await copy.write(chunk)
                    chunk = await anext(chunks, None)
    except psycopg.Error as error:
        context = (error.diag.context or "").strip()
        match = re.search(r"line (\d+)", context)
        where = f"line {match.group(1)}: " if match else ""
        raise Invalid(f"{source}: {where}{error.diag.message_primary or error}") from None
    return header


async def problems(session: AsyncSession, checks: list[str], source: str) -> None:
    """Run checks over the staging table (``:max_items`` is MAX_LIST_ITEMS); each returns
    (line, message) rows. One problem or more: 422 with the first ones, by line."""
    found: list[dict[str, object]] = []
    for sql in checks:
        rows = (
            await session.execute(text(sql + f" LIMIT {MAX_LISTED}"), {"max_items": MAX_LIST_ITEMS})
        ).all()
        found += [{"line": line, "msg": message} for line, message in rows]
    refuse(found, source)


def refuse(found: list[dict[str, object]], source: str) -> None:
    """422 naming the first problems by line, if there is any."""
    if found:
        found.sort(key=lambda item: int(str(item["line"])))
        first = found[0]
        raise Invalid(
            f"{source}: line {first['line']}: {first['msg']} (nothing imported)",
            errors=found[:MAX_LISTED],
        )
