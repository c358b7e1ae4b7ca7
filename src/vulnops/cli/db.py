from __future__ import annotations

import typer

from vulnops.cli.common import console, run_in_session
from vulnops.db import migrate
from vulnops.db.database import resolve_conninfo
from vulnops.settings import get_settings

app = typer.Typer(help="The database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    migrate.upgrade(resolve_conninfo(get_settings()), revision)
    console.print(f"database at {revision} ({migrate.head_revision()})")


@app.command("current")
def current() -> None:
    """Show the database's migration revision and the code's."""
    revision = run_in_session(migrate.current_revision)
    head = migrate.head_revision()
    state = "current" if revision == head else "behind: run `vulnops db upgrade`"
    console.print(f"database: {revision or 'empty'} · code: {head} · {state}")
