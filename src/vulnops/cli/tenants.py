"""``vulnops tenant …``."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cli.common import cli_actor, console, run_in_session
from vulnops.tenants import service

app = typer.Typer(help="Customer organisations.", no_args_is_help=True)


@app.command("create")
def create(key: str, name: str = typer.Option(..., help="The organisation's name.")) -> None:
    """Add a tenant (customers sign in bound to one)."""

    async def work(session: AsyncSession) -> None:
        await service.create_tenant(session, key=key, name=name, actor=cli_actor())

    run_in_session(work)
    console.print(f"tenant {key} created")
