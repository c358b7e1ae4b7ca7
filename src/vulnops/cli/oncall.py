"""``vulnops oncall …``: import and export schedules and escalation policies (YAML), and who is
on call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vulnops.cli.common import JSON, cli_actor, console, group, print_json, run_in_session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.oncall import importer

app = group("On-call schedules and escalation policies.")


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="YAML as `export` writes it."
    ),
) -> None:
    """Import schedules and escalation policies — all or nothing."""
    document = file.read_text()

    async def work(session: AsyncSession) -> importer.ImportSummary:
        from vulnops.oncall import importer

        return await importer.import_document(
            session,
            text_=document,
            source=str(file),
            actor=cli_actor(),
            now=datetime.now(UTC),
        )

    summary = run_in_session(work)
    console.print(
        ", ".join(f"{value} {name}" for name, value in summary.__dict__.items()) + " imported"
    )


@app.command("export")
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="A file (default: stdout)."),
) -> None:
    """Write every schedule and escalation policy as YAML (what `import` reads)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.oncall import exporter

        return await exporter.document(session)

    import yaml

    text = yaml.safe_dump(run_in_session(work), sort_keys=False, allow_unicode=True)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        console.print(f"on-call written to {output}")


@app.command("who")
def who(
    schedule: str = typer.Argument(..., help="The schedule's key."),
    at: datetime | None = typer.Option(
        None,
        "--at",
        help="An instant with its offset (default: now).",
        formats=["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"],
    ),
    json_: bool = JSON,
) -> None:
    """Who is on call on a schedule at an instant, and until when."""
    instant = at or datetime.now(UTC)

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.oncall import service

        shift, stored = await service.who(session, key=schedule, at=instant)
        zone = stored.zone
        return {
            "schedule": schedule,
            "at": instant.isoformat(),
            "user": shift.user,
            "source": shift.source,
            "since": shift.start.astimezone(zone).isoformat(),
            "until": shift.end.astimezone(zone).isoformat(),
        }

    found = run_in_session(work)
    if json_:
        print_json(found)
    elif found["user"] is None:
        console.print(f"nobody is on call on {schedule} until {found['until']}")
    else:
        via = f" ({found['source']})" if found["source"] else ""
        console.print(f"{found['user']}{via}, from {found['since']} until {found['until']}")
