"""Every listener the wiring names exists: a typo would only show when the event fires."""

from __future__ import annotations

import inspect

from vulnops import events, wiring


def test_every_wired_listener_is_an_async_function() -> None:
    wiring.wire()
    names = [name for listeners in events._handlers.values() for name in listeners]
    assert names, "nothing is wired"
    for name in names:
        assert inspect.iscoroutinefunction(events._resolve(name)), name
