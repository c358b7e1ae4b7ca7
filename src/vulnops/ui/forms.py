"""The one way a form's action ends: commit, say what was done, back to the page
(post/redirect/get). When the work refuses, the error handler (``web/errors.py``) sends the
person back to the page they were on with the error beside the field (``static/js/forms.js``
gives the form back what was typed), and nothing is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import DomainError
from vulnops.ui.templating import flash, redirect

T = TypeVar("T")


def _where(error: dict[str, object]) -> str:
    loc = error.get("loc")
    return str(
        error.get("field") or (".".join(str(p) for p in loc) if isinstance(loc, list) else "")
    )


def problem_text(problem: DomainError) -> str:
    """A domain error as one sentence, with every field it names (once)."""
    errors = problem.extra.get("errors") or []
    details = "; ".join(
        f"{_where(e)}: {e.get('message') or e.get('msg')}"
        for e in errors
        if str(e.get("message") or e.get("msg")) not in problem.detail
    )
    return f"{problem.detail}{': ' + details if details else ''}"


def problem_field(problem: DomainError) -> str | None:
    """The form field a domain error is about, when it says."""
    errors = problem.extra.get("errors") or []
    named = problem.extra.get("field") or (_where(errors[0]) if errors else None)
    return str(named) if named else None


async def form_action(
    request: Request,
    session: AsyncSession,
    work: Callable[[], Awaitable[T]],
    *,
    done: Callable[[T], str],
    back: str | Callable[[T], str],
) -> Response:
    """Run ``work`` in the request's transaction, commit, and redirect to ``back`` (or to the
    page ``back`` names for the result: a thing just created)."""
    result = await work()
    await session.commit()
    flash(request, done(result), "success", form=request.url.path)
    return redirect(back if isinstance(back, str) else back(result))
