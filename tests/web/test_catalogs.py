"""The interface's catalogs are complete: every message marked in the code and the templates has
a translation in every language (not fuzzy, with the same placeholders), and the customer's
pages and emails mark all their text (none is left in English outside the catalogs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from vulnops import i18n

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "src" / "vulnops" / "ui" / "templates"
# What the customer reads: the portal's pages, their frame, and the emails sent to them.
CUSTOMER_TEMPLATES = (
    "base.html",
    "pager.html",
    "notify/portal_list.html",
    "notify/portal_detail.html",
    "notify/settings.html",
    "email/advisory_notice.txt",
    "email/advisory_answer.txt",
)
# Words that are the same in every language: names, protocols.
UNTRANSLATED = {"vulnops", "API", "Subject", "TLP"}


def _marked() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, strip_comment_tags=True
        )
    }


@pytest.mark.parametrize("language", [name for name in i18n.languages() if name != i18n.SOURCE])
def test_every_marked_message_is_translated(language: str) -> None:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    marked = _marked()
    assert len(marked) > 100  # the extraction found the portal's text
    missing, fuzzy = [], []
    for message in marked:
        key = message[0] if isinstance(message, tuple) else message
        found = catalog.get(key)
        strings = found.string if found else None
        texts = strings if isinstance(strings, tuple) else (strings,)
        if found is None or not all(texts):
            missing.append(key)
        elif found.fuzzy:
            fuzzy.append(key)
    assert missing == [], f"{language} lacks a translation (make messages, then translate)"
    assert fuzzy == [], f"{language} has fuzzy translations to check"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == [], "the placeholders of a translation differ from the original's"


def _visible_text(source: str) -> str:
    """The template's text outside what the catalogs translate: {% trans %} blocks, every
    expression and tag, comments and HTML tags removed."""
    source = re.sub(r"\{% trans\b.*?%\}.*?\{% endtrans %\}", " ", source, flags=re.S)
    source = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", source, flags=re.S)
    return re.sub(r"<[^>]*>", "", source)


def _attribute_text(source: str) -> list[str]:
    """The words of the attributes a person reads (placeholders, titles, labels)."""
    stripped = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.S)
    return re.findall(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"', stripped)


@pytest.mark.parametrize("name", CUSTOMER_TEMPLATES)
def test_the_customers_templates_mark_all_their_text(name: str) -> None:
    source = (TEMPLATES / name).read_text()
    words = set(re.findall(r"[A-Za-z][A-Za-z']+", _visible_text(source))) - UNTRANSLATED
    assert words == set(), f"{name}: text outside _() and {{% trans %}}"
    readable = [
        value
        for value in _attribute_text(source)
        if value.strip() and not value.startswith("https://")
    ]
    assert readable == [], f"{name}: attribute text outside _()"


def test_the_check_finds_unmarked_text() -> None:
    """The template check itself: an English sentence left in a page is found."""
    words = set(re.findall(r"[A-Za-z][A-Za-z']+", _visible_text("<p>{{ x }} Thank you</p>")))
    assert words == {"Thank", "you"}
    assert _visible_text("{% trans %}Thank you{% endtrans %}").strip() == ""
