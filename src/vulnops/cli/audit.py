"""``vulnops audit …``."""

from __future__ import annotations

import json

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service
from vulnops.audit.schemas import VerifyResult
from vulnops.cli.common import console, err_console, run_in_session

app = typer.Typer(help="The hash-chained event log.", no_args_is_help=True)


@app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check every event's hash and link; exit 1 at the first changed, inserted or deleted one."""
    result: VerifyResult = run_in_session(service.verify)
    if as_json:
        console.print_json(result.model_dump_json())
    elif result.ok:
        console.print(f"[green]ok[/green]: {result.events_checked} events, chain intact")
    else:
        assert result.problem is not None
        err_console.print(
            f"[red]chain broken[/red] at event {result.problem.seq}: {result.problem.message}"
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("log")
def log(
    subject: str | None = typer.Option(None, help="Only this subject, e.g. user:3."),
    kind: str | None = typer.Option(None, help="Only this kind, e.g. user.created."),
    page: int = typer.Option(1, min=1),
) -> None:
    """Show events, newest first."""

    async def work(session: AsyncSession) -> None:
        events = await service.list_events(session, subject=subject, kind=kind, page=page)
        table = Table("#", "when", "subject", "kind", "actor", "data")
        for event in events.items:
            table.add_row(
                str(event.seq),
                f"{event.occurred_at:%Y-%m-%d %H:%M:%S}",
                event.subject,
                event.kind,
                event.actor,
                json.dumps(event.data),
            )
        console.print(table)
        console.print(f"page {events.page} of {events.pages} · {events.total} events")

    run_in_session(work)
