"""What every command needs: settings, a database, an event loop, a console, one way to print.

Nothing here (nor in any command module's top level) imports the web app, the database layer,
numpy or scipy: ``vulnops --help`` and every group's help stay fast. A command imports what it
needs when it runs.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.auth.roles import Permission
    from vulnops.db.database import Database
    from vulnops.settings import Settings

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)
JSON = typer.Option(False, "--json", help="Print JSON (for scripts).")


def group(help_text: str) -> typer.Typer:
    """A command group. Help is plain text (click's): rendering it with Rich would load
    Markdown parsing and cost a tenth of a second on every ``--help``."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


def settings() -> Settings:
    """The settings in effect; settings that are not valid are one line and exit 2."""
    from pydantic import ValidationError

    from vulnops.settings import get_settings

    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise fail(f"the settings are not valid: {problems}", 2) from None
    except FileNotFoundError as error:
        raise fail(str(error), 2) from None


def cli_actor() -> str:
    """How the event log names a change made from the command line."""
    return f"cli:{getpass.getuser()}"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line saying what is wrong; the caller raises what this returns."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@asynccontextmanager
async def database() -> AsyncIterator[Database]:
    import asyncio

    from vulnops import wiring
    from vulnops.db.database import Database, resolve_conninfo

    wiring.wire()
    db = Database(await asyncio.to_thread(resolve_conninfo, settings()), pool_size=2)
    try:
        yield db
    finally:
        await db.dispose()


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main``; a domain error, a database without the schema or one that cannot be
    reached is one line and exit 1."""
    import asyncio

    from sqlalchemy.exc import DBAPIError, ProgrammingError

    from vulnops.errors import DomainError

    try:
        return asyncio.run(main)
    except DomainError as error:
        raise fail(error.detail) from None
    except ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) == "42P01":  # undefined table
            raise fail(
                "the database has no vulnops schema yet: run `vulnops db upgrade` (or "
                "`vulnops serve`, which applies the migrations)"
            ) from None
        raise
    except (DBAPIError, OSError) as error:
        first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise fail(f"the database cannot be reached: {first}") from None


def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction (committed when it returns)."""

    async def main() -> T:
        async with database() as db, db.session() as session:
            result = await work(session)
            await session.commit()
            return result

    return run(main())


async def acting_as(session: AsyncSession, email: str | None, permission: Permission) -> str:
    """The actor of a change made from the command line: ``--as EMAIL`` (an active account
    that holds ``permission``), else the operator at this console."""
    from vulnops.auth import service as users
    from vulnops.auth.roles import Role, has_permission
    from vulnops.errors import Forbidden

    if email is None:
        return cli_actor()
    user = await users.get_user_by_email(session, email=email)
    if user.disabled or not has_permission(Role(user.role), permission):
        raise Forbidden(f"{email} may not do this ({permission.value})")
    return user.email


def print_json(value: Any) -> None:
    """JSON on standard output, whole (no colour, no wrapping), for scripts."""
    from pydantic_core import to_jsonable_python

    sys.stdout.write(json.dumps(to_jsonable_python(value), indent=2) + "\n")


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, footer: str | None = None
) -> None:
    """A table on a terminal; tab-separated lines, every value whole, when piped (the footer
    then goes to standard error, so that the output is only the rows)."""
    if console.is_terminal:
        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        if footer:
            console.print(footer)
        return
    lines = ["\t".join(columns), *("\t".join(cell.replace("\t", " ") for cell in r) for r in rows)]
    sys.stdout.write("\n".join(lines) + "\n")
    if footer:
        err_console.print(footer, highlight=False)
