"""The one way a form's action ends: commit and say what was done, or roll back and say what is
wrong — then back to the page (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import DomainError
from vulnops.ui.templating import flash, redirect

T = TypeVar("T")


def problem_text(problem: DomainError) -> str:
    """A domain error as one sentence, with every field it names."""
    errors = problem.extra.get("errors") or []
    details = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return f"{problem.detail}{': ' + details if details else ''}"


async def form_action(
    request: Request,
    session: AsyncSession,
    work: Callable[[], Awaitable[T]],
    *,
    done: Callable[[T], str],
    back: str,
) -> Response:
    """Run ``work`` in the request's transaction and redirect to ``back``."""
    try:
        result = await work()
    except DomainError as problem:
        await session.rollback()
        flash(request, problem_text(problem), "error")
    else:
        await session.commit()
        flash(request, done(result), "success")
    return redirect(back)
