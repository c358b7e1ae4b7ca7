"""Plain-text templates (email bodies), apart from the HTML pages: sending an email loads no web
framework."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader

TEMPLATES_DIR = Path(__file__).parent / "templates"


def when(value: datetime | None, zone: str | None = None) -> str:
    """A date and time to the minute: in UTC, or on the clock of ``zone`` (a tenant's time
    zone, an IANA name) with its abbreviation."""
    if value is None:
        return "—"
    if zone is None or zone == "UTC" or value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


_text = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=False,  # noqa: S701 - plain-text email bodies, never HTML
    keep_trailing_newline=True,
)
_text.filters["when"] = when


def table_cell(value: object) -> str:
    """A value as one cell of a Markdown table: its pipes escaped, its lines joined."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("|", "\\|").split())


_text.filters["cell"] = table_cell


def render_text(name: str, context: dict[str, Any]) -> str:
    """A plain-text template (email bodies): nothing is escaped, nothing is HTML."""
    return _text.get_template(name).render(context)
