"""Plain-text templates (email bodies), apart from the HTML pages: sending an email loads no web
framework."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from vulnops import i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"


def with_i18n(environment: Environment) -> Environment:
    """``{% trans %}``, ``_()`` and the ``when`` filter, in the language of
    :func:`vulnops.i18n.speaking` (the source's outside one)."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    environment.filters["when"] = i18n.when
    environment.filters["number"] = i18n.number
    return environment


_text = with_i18n(
    Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # noqa: S701 - plain-text email bodies, never HTML
        keep_trailing_newline=True,
    )
)


def table_cell(value: object) -> str:
    """A value as one cell of a Markdown table: its pipes escaped, its lines joined."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("|", "\\|").split())


_text.filters["cell"] = table_cell


def render_text(name: str, context: dict[str, Any], *, language: str | None = None) -> str:
    """A plain-text template (email bodies): nothing is escaped, nothing is HTML; in the
    interface language for ``language`` (a BCP 47 tag) when given."""
    if language is None:
        return _text.get_template(name).render(context)
    with i18n.speaking(language):
        return _text.get_template(name).render(context)
