from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from vulnops import i18n
from vulnops.ui import markdown
from vulnops.ui.text import TEMPLATES_DIR, with_i18n

STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
with_i18n(templates.env)
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
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    """The page ``name``; in the interface language for ``language`` (a BCP 47 tag: the
    customer's tenant's, on the portal's pages) when given, else in the source language."""
    principal = getattr(request.state, "principal", None)
    navigation = getattr(request.app.state, "navigation", None)
    base = {
        "principal": principal,
        "nav": navigation(principal) if navigation else [],
        "flashes": request.session.pop("_flash", []) if "session" in request.scope else [],
        "csrf_token": csrf_token(request),
        "path": request.url.path,
    }
    if language is None:
        return templates.TemplateResponse(
            request, name, {**base, **(context or {})}, status_code=status_code
        )
    with i18n.speaking(language) as spoken:
        return templates.TemplateResponse(
            request, name, {**base, "lang": spoken, **(context or {})}, status_code=status_code
        )


def redirect(url: str) -> RedirectResponse:
    """After a form post: see the result with a GET (post/redirect/get)."""
    return RedirectResponse(url, status_code=303)
