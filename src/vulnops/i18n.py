"""The language of what a customer reads: gettext catalogs (Babel) for the portal's pages, the
email notices and the webhook's human-readable fields, and dates in the reader's locale.

The source text is English and is its own catalog; every other language has a catalog in
``locale/<language>/LC_MESSAGES/messages.po`` (``make messages`` extracts the marked text and
updates them; ``tests/ui/test_catalogs.py`` fails when one lacks a translation). The ``.po``
files are compiled in memory when first used, so no compiled file is kept beside them.

Which language applies is a context variable set around a rendering (:func:`speaking`): the
Jinja2 ``i18n`` extension of the page and text environments and the Python code call the same
:func:`gettext`, and a template renders the same way in a web request, a delivery job or a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import negotiate_locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE = "en"
DOMAIN = "messages"


@cache
def languages() -> tuple[str, ...]:
    """The languages the interface is written in: the source and every catalog (read once:
    every page a customer opens negotiates against them)."""
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    return (SOURCE, *(name for name in found if name != SOURCE))


def negotiate(tag: str | None) -> str:
    """The interface language for a BCP 47 tag: the catalog of the tag itself, else of its
    primary language (``fr-CA`` reads French), else the source language."""
    if not tag:
        return SOURCE
    found = negotiate_locale([tag.lower()], [name.lower() for name in languages()], sep="-")
    return found or SOURCE


@cache
def catalog(language: str) -> NullTranslations:
    """The translations of one interface language (the source's are the identity)."""
    if language == SOURCE:
        return NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        messages = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


_speaking: ContextVar[str | None] = ContextVar("vulnops_language", default=None)


@contextmanager
def speaking(tag: str | None) -> Iterator[str]:
    """Within the block, text and dates are in the interface language for ``tag`` (a tenant's
    BCP 47 tag); yields that language."""
    language = negotiate(tag)
    token = _speaking.set(language)
    try:
        yield language
    finally:
        _speaking.reset(token)


def current() -> str | None:
    """The language set by :func:`speaking`; None outside one (staff pages, logs, the API)."""
    return _speaking.get()


def gettext(message: str) -> str:
    return catalog(current() or SOURCE).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(current() or SOURCE).ngettext(singular, plural, n)


def when(value: datetime | None, zone: str | None = None) -> str:
    """A date and time to the minute on the clock of ``zone`` (an IANA name; UTC without one)
    with the zone's abbreviation. Within :func:`speaking`, in that language's format
    (``8 déc. 2026 04:04 CET``); outside, the staff's ``2026-12-08 03:04 UTC``."""
    if value is None:
        return "—"
    local = value if value.tzinfo is None else value.astimezone(ZoneInfo(zone or "UTC"))
    language = current()
    if language is None:
        return local.strftime("%Y-%m-%d %H:%M ") + (local.strftime("%Z") or "UTC")
    return " ".join(
        (
            format_date(local, "medium", locale=language),
            format_time(local, "short", locale=language),
            local.strftime("%Z") or "UTC",
        )
    )


def number(value: int | float) -> str:
    """A number the reader's way: ``10,000`` in English, ``10 000`` in French."""
    return format_decimal(value, locale=current() or SOURCE)


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark ``message`` for the catalogs where it is defined; it is translated where shown."""
    return message
