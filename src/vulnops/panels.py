"""Panels one domain adds to another's page without the two importing each other: a page names a
slot (``report``: a report's page), and :mod:`vulnops.wiring` joins to it the panels other
domains provide, each a template and an async function (given by its import path, resolved when
first used) that returns the template's context, or None when it has nothing to show."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

Provider = Callable[..., Awaitable[dict[str, Any] | None]]
_SLOTS: dict[str, list[tuple[str, str]]] = {}


def provide(slot: str, *, template: str, provider: str) -> None:
    """Add a panel to ``slot`` (idempotent)."""
    panels = _SLOTS.setdefault(slot, [])
    if (template, provider) not in panels:
        panels.append((template, provider))


def _resolve(name: str) -> Provider:
    module, _, function = name.partition(":")
    found: Provider = getattr(importlib.import_module(module), function)
    return found


async def gather(slot: str, **arguments: Any) -> list[tuple[str, dict[str, Any]]]:
    """The panels of ``slot`` that have something to show: (template, context) in order."""
    shown = []
    for template, provider in _SLOTS.get(slot, []):
        context = await _resolve(provider)(**arguments)
        if context is not None:
            shown.append((template, context))
    return shown
