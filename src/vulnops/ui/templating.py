from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from vulnops.ui import markdown
from vulnops.ui.text import TEMPLATES_DIR, when

STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters["when"] = when
templates.env.filters["markdown"] = markdown.render


def flash(
    request: Request,
    message: str,
    category: str = "info",
    *,
    form: str | None = None,
    field: str | None = None,
) -> None:
    """A message shown once, on the next page (after a redirect). ``form`` (the action of the
    form it is about) and ``field`` let the page put an error beside the field and give the
    form back what was typed (static/js/forms.js)."""
    entry = {"category": category, "message": message, "form": form, "field": field}
    # Assigned, not appended in place: the session is saved only when a key is set.
    request.session["_flash"] = [*request.session.get("_flash", []), entry]


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
