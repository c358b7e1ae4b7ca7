"""Every endpoint of the app with the rule it declares: checked at start-up and by the tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Mount

from vulnops.auth.deps import route_rule
from vulnops.auth.roles import PUBLIC, Rule

# Routes FastAPI adds itself; public by nature.
FRAMEWORK_PUBLIC_PATHS = frozenset({"/openapi.json"})


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    rule: Rule | None


class MissingPermissionRule(RuntimeError):
    pass


def endpoints(routes: Sequence[BaseRoute]) -> list[Endpoint]:
    """The app's endpoints (static mounts excluded: they serve public files)."""
    found = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, Mount):
            continue
        path = context.path or ""
        methods = frozenset(context.methods or ())
        if isinstance(route, APIRoute):
            rule = route_rule(route)
        else:
            rule = PUBLIC if path in FRAMEWORK_PUBLIC_PATHS else None
        found.append(Endpoint(path=path, methods=methods, rule=rule))
    return found


def check_rules(routes: Sequence[BaseRoute]) -> None:
    """Refuse to start when an endpoint does not declare who may call it."""
    missing = [
        f"{' '.join(sorted(e.methods))} {e.path}" for e in endpoints(routes) if e.rule is None
    ]
    if missing:
        raise MissingPermissionRule("endpoints without a permission rule: " + ", ".join(missing))
