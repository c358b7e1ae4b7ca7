"""What a running job gets from its worker: the database and the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # wiring imports this module: it must not load procrastinate for every command
    import procrastinate

    from vulnops.db.database import Database
    from vulnops.settings import Settings

T = TypeVar("T")
# What binds every domain's tasks to the job application; set by ``wiring.wire``.
_BINDERS: list[Callable[[], object]] = []


def bind_with(binder: Callable[[], object]) -> None:
    """Bind the tasks with ``binder`` when a job is first deferred (the composition root knows
    the job application; the domains that defer do not)."""
    _BINDERS[:] = [binder]


def bound(task: T) -> T:
    """``task``, with every domain's tasks bound to the job application, so that it may be
    deferred from any entry point. Binding imports every domain's tasks (and with them numpy
    and the services): it happens when something first defers a job, not for every command at
    start (``vulnops case list`` defers nothing)."""
    for binder in _BINDERS:
        binder()
    return task


def job_database(context: procrastinate.JobContext) -> Database:
    database: Database = context.additional_context["db"]
    return database


def job_settings(context: procrastinate.JobContext) -> Settings:
    settings: Settings = context.additional_context["settings"]
    return settings
