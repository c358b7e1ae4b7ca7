"""The OpenAPI document as the app really behaves.

FastAPI derives the document from the route signatures, which cannot say two things the app
does: a public route needs no token (the optional bearer dependency every route shares makes
FastAPI mark them all as secured), and every error is an RFC 9457 problem document (FastAPI
declares only its own 422 body). This module corrects both, from each route's declared
permission rule, once, when the document is first asked for.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from vulnops.auth.deps import route_rule
from vulnops.auth.roles import Rule
from vulnops.web.errors import JSON_PATHS

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each invalid field of a 422: where, what and why.",
            "items": {"type": "object"},
        },
    },
    "additionalProperties": True,
}
REASONS = {
    400: "The body is not valid JSON.",
    401: "No valid API token or session (a token that is sent must be valid, even here).",
    403: "The caller's role does not allow this.",
    404: "No such object, or one the caller may not see.",
    409: "The object's state does not allow this now.",
    413: "The body or an upload is larger than its limit.",
    422: "A field is invalid; the detail names it.",
    429: "A rate limit or quota is reached; Retry-After says when to try again.",
}
BODY_METHODS = frozenset({"post", "put", "patch"})
PATH_PARAMETER = re.compile(r"\{([^}:]+)(:[^}]+)?\}")


def _rules(app: FastAPI) -> dict[tuple[str, str], Rule | None]:
    found = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            path = PATH_PARAMETER.sub(r"{\1}", context.path or "")
            for method in context.methods or ():
                found[(path, method.lower())] = route_rule(route)
    return found


def _error_statuses(method: str, operation: dict[str, Any], rule: Rule) -> list[int]:
    statuses = [401, 404, 409, 422]  # a GET may find its object in a state that has no answer
    if rule.authenticated:
        statuses.append(403)
    if method in BODY_METHODS:
        statuses.append(429)
        if "requestBody" in operation:
            statuses += [400, 413]
    return sorted(statuses)


def _problem_response(status: int, *, html_too: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"application/problem+json": {"schema": PROBLEM_REF}}
    if html_too:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": REASONS.get(status, "An error."), "content": content}


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with security and error answers as the app behaves."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    rules = _rules(app)
    for path, operations in schema.get("paths", {}).items():
        # Outside the JSON paths an error answers a browser with a page unless JSON is asked for.
        html_too = not path.startswith(JSON_PATHS)
        for method, operation in operations.items():
            rule = rules.get((path, method))
            if rule is None:
                continue
            if not rule.authenticated:
                operation.pop("security", None)
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(method, operation, rule):
                responses[str(status)] = _problem_response(status, html_too=html_too)
            for status, declared in responses.items():
                if status.isdigit() and int(status) >= 400 and "content" not in declared:
                    declared["content"] = _problem_response(int(status), html_too=html_too)[
                        "content"
                    ]
            operation["responses"] = dict(sorted(responses.items()))
    app.openapi_schema = schema
    return schema
