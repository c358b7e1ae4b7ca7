"""``vulnops db …``: the schema's migrations."""

from __future__ import annotations

import typer

from vulnops.cli.common import console, group, run_in_session, settings

app = group("The database.")


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    from vulnops.db import migrate
    from vulnops.db.database import resolve_conninfo

    migrate.upgrade(resolve_conninfo(settings()), revision)
    console.print(f"database at {revision} ({migrate.head_revision()})")


@app.command("current")
def current() -> None:
    """Show the database's migration revision and the code's."""
    from vulnops.db import migrate

    revision = run_in_session(migrate.current_revision)
    head = migrate.head_revision()
    state = "current" if revision == head else "behind: run `vulnops db upgrade`"
    console.print(f"database: {revision or 'empty'} · code: {head} · {state}")
