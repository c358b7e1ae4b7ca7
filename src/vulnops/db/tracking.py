"""Human tracking numbers such as ``VULN-2026-000123``: the year of creation and a counter that
never repeats. The database makes them (a column default over a sequence), so a set-based insert
numbers its rows as a single one does; a rolled-back insert leaves a gap, which is harmless."""

from __future__ import annotations

from sqlalchemy import TextClause, text


def tracking_default(prefix: str, sequence: str) -> TextClause:
    return text(
        f"'{prefix}-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('{sequence}')::text, 6, '0')"
    )
