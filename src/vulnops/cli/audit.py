"""``vulnops audit …``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from vulnops.cli.common import (
    JSON,
    console,
    err_console,
    group,
    print_json,
    print_table,
    run_in_session,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.audit.schemas import VerifyResult

app = group("The hash-chained event log.")


@app.command("verify")
def verify(as_json: bool = JSON) -> None:
    """Check every event's hash and link; exit 1 at the first changed, inserted or deleted one."""

    async def work(session: AsyncSession) -> VerifyResult:
        from vulnops.audit import service

        return await service.verify(session)

    result = run_in_session(work)
    if as_json:
        print_json(result)
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
    as_json: bool = JSON,
) -> None:
    """Show events, newest first."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.audit import service
        from vulnops.audit.schemas import EventOut

        events = await service.list_events(session, subject=subject, kind=kind, page=page)
        return {
            "items": [EventOut.model_validate(event).model_dump() for event in events.items],
            "total": events.total,
            "page": events.page,
            "pages": events.pages,
        }

    result = run_in_session(work)
    if as_json:
        print_json(result)
        return
    print_table(
        ("#", "when", "subject", "kind", "actor", "data"),
        [
            (
                str(e["seq"]),
                f"{e['occurred_at']:%Y-%m-%d %H:%M:%S}",
                e["subject"],
                e["kind"],
                e["actor"],
                json.dumps(e["data"], default=str),
            )
            for e in result["items"]
        ],
        footer=f"page {result['page']} of {result['pages']} · {result['total']} events",
    )
