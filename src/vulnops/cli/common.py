"""What every command needs: settings, a database, an event loop, a console."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.auth.roles import Permission, Role, has_permission
from vulnops.db.database import Database, resolve_conninfo
from vulnops.errors import DomainError, Forbidden
from vulnops.settings import get_settings

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def cli_actor() -> str:
    """How the event log names a change made from the command line."""
    return f"cli:{getpass.getuser()}"


@asynccontextmanager
async def database() -> AsyncIterator[Database]:
    settings = get_settings()
    db = Database(await asyncio.to_thread(resolve_conninfo, settings), pool_size=2)
    try:
        yield db
    finally:
        await db.dispose()


def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction; a domain error prints its message and exits 1."""

    async def main() -> T:
        async with database() as db, db.session() as session:
            result = await work(session)
            await session.commit()
            return result

    try:
        return asyncio.run(main())
    except DomainError as error:
        err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(1) from None


async def acting_as(session: AsyncSession, email: str | None, permission: Permission) -> str:
    """The actor of a change made from the command line: ``--as EMAIL`` (an active account
    that holds ``permission``), else the operator at this console."""
    if email is None:
        return cli_actor()
    user = await users.get_user_by_email(session, email=email)
    if user.disabled or not has_permission(Role(user.role), permission):
        raise Forbidden(f"{email} may not do this ({permission.value})")
    return user.email
