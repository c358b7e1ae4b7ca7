from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from vulnops.ui import markdown

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
_text = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=False,  # noqa: S701 - plain-text email bodies, never HTML
    keep_trailing_newline=True,
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


templates.env.filters["when"] = _when
templates.env.filters["markdown"] = markdown.render
_text.filters["when"] = _when


def render_text(name: str, context: dict[str, Any]) -> str:
    """A plain-text template (email bodies): nothing is escaped, nothing is HTML."""
    return _text.get_template(name).render(context)


def flash(request: Request, message: str, category: str = "info") -> None:
    """A message shown once, on the next page (after a redirect)."""
    # Assigned, not appended in place: the session is saved only when a key is set.
    request.session["_flash"] = [*request.session.get("_flash", []), [category, message]]


def csrf_token(request: Request) -> str:
    get_token = request.scope.get("csrftoken")
    return str(get_token()) if get_token else ""


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    navigation = getattr(request.app.state, "navigation", None)
    base = {
        "principal": principal,
        "nav": navigation(principal) if navigation else [],
        "flashes": request.session.pop("_flash", []) if "session" in request.scope else [],
        "csrf_token": csrf_token(request),
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )


def redirect(url: str) -> RedirectResponse:
    """After a form post: see the result with a GET (post/redirect/get)."""
    return RedirectResponse(url, status_code=303)
