"""``vulnops tenant …``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from vulnops.cli.common import cli_actor, console, group, run_in_session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

app = group("Customer organisations.")


@app.command("create")
def create(key: str, name: str = typer.Option(..., help="The organisation's name.")) -> None:
    """Add a tenant (customers sign in bound to one)."""

    async def work(session: AsyncSession) -> None:
        from vulnops.tenants import service

        await service.create_tenant(session, key=key, name=name, actor=cli_actor())

    run_in_session(work)
    console.print(f"tenant {key} created")
