"""Plain-text templates (email bodies), apart from the HTML pages: sending an email loads no web
framework."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

TEMPLATES_DIR = Path(__file__).parent / "templates"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


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
