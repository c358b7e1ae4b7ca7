"""Domain events: a domain says what happened; the domains that care react, in the same
transaction (so a reaction commits or rolls back with the change that caused it).

A domain publishes an event it defines; it does not know who listens. The listeners are wired
in one place, :mod:`vulnops.wiring`, by every entry point (the web app, the command line, the
tests). Publishing before the wiring raises: a reaction that silently did not happen (a
researcher never told that their report is resolved) is worse than a loud failure.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.settings import Settings

# A listener gets the caller's session (its transaction), the event, and the settings of the
# process (a listener that sends email needs them).
Handler = Callable[[AsyncSession, Any, Settings], Awaitable[None]]

# Listeners by event type, each named "module:function" and imported when first needed: a
# process that never publishes (a read-only command) never loads them.
_handlers: dict[type, list[str]] = {}
_wired = False


def subscribe(event_type: type, handler: str) -> None:
    """Have the listener ``handler`` ("module:function") run for every ``event_type``
    published (once, however often asked)."""
    listeners = _handlers.setdefault(event_type, [])
    if handler not in listeners:
        listeners.append(handler)


def _resolve(name: str) -> Handler:
    module, _, function = name.partition(":")
    found: Handler = getattr(importlib.import_module(module), function)
    return found


def mark_wired() -> None:
    global _wired  # noqa: PLW0603 - the one switch the wiring flips
    _wired = True


async def publish(session: AsyncSession, event: object, *, settings: Settings) -> None:
    """Run every listener of ``event``'s type in the caller's transaction."""
    if not _wired:
        raise RuntimeError("the event listeners are not wired: call vulnops.wiring.wire() first")
    for name in _handlers.get(type(event), []):
        await _resolve(name)(session, event, settings)
