"""Every parameter of every route is bounded (``db.bounded``): checked at start-up.

A route that takes a plain ``int`` or ``str`` would let a huge number or a NUL byte reach the
database as a server error; the app refuses to start with one, naming it, so the boundary
cannot be forgotten on a new route.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, ForwardRef, Union, get_args, get_origin

from annotated_types import Ge, Le
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Strict
from pydantic.fields import FieldInfo
from starlette.routing import BaseRoute

from vulnops.db.bounded import MAX_BIGINT, MIN_BIGINT, STORABLE, Input


class UnboundedInput(RuntimeError):
    pass


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _problem(annotation: Any, metadata: Sequence[Any]) -> str | None:
    """Why a parameter of this type is unbounded, or None when it is bounded."""
    if get_origin(annotation) is Annotated:
        inner, *more = get_args(annotation)
        # A Field(...) inside an Annotated that is not the parameter's own keeps its constraints
        # in its own metadata.
        flat = [
            m for item in more for m in (item.metadata if isinstance(item, FieldInfo) else [item])
        ]
        return _problem(inner, [*metadata, *flat])
    if get_origin(annotation) in (Union, types.UnionType):
        found = [_problem(arg, metadata) for arg in get_args(annotation) if arg is not type(None)]
        return next((problem for problem in found if problem), None)
    if get_origin(annotation) in (list, tuple, set, frozenset):
        found = [_problem(arg, []) for arg in get_args(annotation) if arg is not Ellipsis]
        return next((problem for problem in found if problem), None)
    return _plain_problem(annotation, metadata)


def _plain_problem(annotation: Any, metadata: Sequence[Any]) -> str | None:
    if isinstance(annotation, ForwardRef):
        return f"a type FastAPI could not resolve ({annotation.__forward_arg__})"
    if annotation is str and STORABLE not in metadata:
        return "text without the storable check (use db.bounded.Text)"
    if annotation is int:
        lowest = max((int(m.ge) for m in metadata if isinstance(m, Ge)), default=None)  # type: ignore[call-overload]
        highest = min((int(m.le) for m in metadata if isinstance(m, Le)), default=None)  # type: ignore[call-overload]
        if lowest is None or highest is None or lowest < MIN_BIGINT or highest > MAX_BIGINT:
            return "an integer without bounds (use db.bounded.Id, Count or PageNumber)"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_problem(annotation)
    return None


def _model_problem(model: type[BaseModel]) -> str | None:
    """A body model must be an ``Input`` (its walk bounds every value) and its booleans strict
    (``0`` is not ``false``)."""
    if not issubclass(model, Input):
        return f"a body model that is not a db.bounded.Input ({model.__name__})"
    for name, field in model.model_fields.items():
        if field.annotation in (bool, bool | None) and not any(
            isinstance(m, Strict) for m in field.metadata
        ):
            return f"{model.__name__}.{name} is a boolean that is not strict (use db.bounded.Flag)"
    return None


def unbounded(routes: Sequence[BaseRoute]) -> list[str]:
    """Each route parameter whose type does not carry the input boundary, with the reason."""
    found = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for dependant in _dependants(route.dependant):
            fields = (
                dependant.path_params
                + dependant.query_params
                + dependant.header_params
                + dependant.cookie_params
                + dependant.body_params
            )
            for field in fields:
                info = field.field_info
                problem = _problem(info.annotation, info.metadata)
                if problem:
                    methods = " ".join(sorted(context.methods or ()))
                    found.append(f"{methods} {context.path} {field.name}: {problem}")
    return found


def check_bounds(routes: Sequence[BaseRoute]) -> None:
    """Refuse to start when a route takes input the database might not store."""
    problems = unbounded(routes)
    if problems:
        raise UnboundedInput("unbounded route parameters: " + "; ".join(problems))
