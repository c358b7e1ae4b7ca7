"""Backends and health sources by name, from the ``vulnops.rollout.backends`` and
``vulnops.rollout.health_sources`` entry points: the controller never imports an implementation,
so the simulator (which uses the rollout code) can be one without an import cycle, and another
package can add its own."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import cast

from vulnops.errors import Invalid
from vulnops.rollout.interfaces import Backend, Context, HealthSource

BACKENDS = "vulnops.rollout.backends"
HEALTH_SOURCES = "vulnops.rollout.health_sources"


def names(group: str) -> list[str]:
    return sorted(entry.name for entry in entry_points(group=group))


def _factory(group: str, name: str, what: str) -> Callable[[Context], object]:
    found = entry_points(group=group, name=name)
    if not found:
        raise Invalid(f"unknown {what} {name!r}; known: {', '.join(names(group))}")
    return cast("Callable[[Context], object]", next(iter(found)).load())


def backend(name: str, context: Context) -> Backend:
    return cast("Backend", _factory(BACKENDS, name, "deployment backend")(context))


def health_source(name: str, context: Context) -> HealthSource:
    return cast("HealthSource", _factory(HEALTH_SOURCES, name, "health source")(context))
