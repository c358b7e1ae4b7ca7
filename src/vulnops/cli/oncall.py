"""``vulnops oncall …``: import and export schedules and escalation policies (YAML), and who is
on call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vulnops.cli.common import (
    JSON,
    cli_actor,
    console,
    group,
    print_json,
    print_table,
    run_in_session,
    settings,
)

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


@app.command("report")
def month_report(
    month: str | None = typer.Option(
        None, "--month", help="YYYY-MM (UTC; default: this month).", show_default=False
    ),
    json_: bool = JSON,
) -> None:
    """Per person over a month: hours on call, night and weekend hours, pages, time to ack."""
    wanted = month or datetime.now(UTC).strftime("%Y-%m")

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        from dataclasses import asdict

        from vulnops.oncall import report

        found = await report.month_report(session, month=wanted)
        return [asdict(person) for person in found.people]

    rows = run_in_session(work)
    if json_:
        print_json(rows)
        return
    columns = ["user", "hours", "night_hours", "weekend_hours", "pages", "acknowledged"]
    print_table(
        [*columns, "ack_median_minutes"],
        [[str(r[c]) for c in columns] + [str(r["ack_median_minutes"] or "")] for r in rows],
        footer=f"{wanted}: {len(rows)} people",
    )


@app.command("override")
def add_override(
    schedule: str = typer.Argument(..., help="The schedule's key."),
    user: str = typer.Option(..., "--user", help="Who takes the window (email)."),
    start: datetime = typer.Option(..., "--start", formats=["%Y-%m-%dT%H:%M%z"]),
    end: datetime = typer.Option(..., "--end", formats=["%Y-%m-%dT%H:%M%z"]),
) -> None:
    """``--user`` takes [start, end) of the schedule from whoever has it."""

    async def work(session: AsyncSession) -> int:
        from vulnops.oncall import overrides

        created = await overrides.add(
            session,
            key=schedule,
            user=user,
            start=start,
            end=end,
            actor=cli_actor(),
            now=datetime.now(UTC),
        )
        return created.id

    console.print(f"override {run_in_session(work)} added: {user} on {schedule}")


pages_app = group("Pages: who must look at something now.")


@pages_app.command("list")
def list_pages(
    every: bool = typer.Option(False, "--all", help="Resolved pages too."),
    json_: bool = JSON,
) -> None:
    """The open pages, newest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        from vulnops.oncall import paging

        found = await paging.list_pages(session, open_only=not every, per_page=200)
        return [
            {
                "id": p.id,
                "status": p.status,
                "urgency": p.urgency,
                "subject": p.subject,
                "raised": p.created_at.isoformat(),
                "acknowledged_by": p.acknowledged_by,
            }
            for p in found.items
        ]

    rows = run_in_session(work)
    if json_:
        print_json(rows)
        return
    print_table(
        ["id", "status", "urgency", "raised", "subject"],
        [[str(r["id"]), r["status"], r["urgency"], r["raised"], r["subject"]] for r in rows],
    )


def _operate(page_id: int, operation: str, actor_email: str | None) -> None:
    async def work(session: AsyncSession) -> str:
        from vulnops.auth.roles import Permission
        from vulnops.cli.common import acting_as
        from vulnops.oncall import paging

        actor = await acting_as(session, actor_email, Permission.ONCALL_RESPOND)
        now, config = datetime.now(UTC), settings()
        if operation == "acknowledge":
            page = await paging.acknowledge(
                session, page_id=page_id, actor=actor, now=now, settings=config, via="command line"
            )
        else:
            page = await paging.resolve(
                session, page_id=page_id, actor=actor, now=now, settings=config
            )
        return page.status

    status = run_in_session(work)
    console.print(f"page #{page_id} {status}")


@pages_app.command("ack")
def ack(
    page_id: int = typer.Argument(...),
    actor: str | None = typer.Option(None, "--as", help="Acknowledge as this user."),
) -> None:
    """Acknowledge a page: its escalation stops."""
    _operate(page_id, "acknowledge", actor)


@pages_app.command("resolve")
def resolve(
    page_id: int = typer.Argument(...),
    actor: str | None = typer.Option(None, "--as", help="Resolve as this user."),
) -> None:
    """Resolve a page."""
    _operate(page_id, "resolve", actor)


@app.command("source")
def add_source(
    key: str = typer.Argument(..., help="A name for the detection system (e.g. prometheus)."),
    kind: str = typer.Option(..., help="pagerduty (Events API v2) or alertmanager."),
    service: str | None = typer.Option(None, help="The service its alerts are about."),
) -> None:
    """Let a detection system send alerts; prints its integration key (shown this once)."""
    if kind not in ("pagerduty", "alertmanager"):
        raise typer.BadParameter("pagerduty or alertmanager", param_hint="--kind")

    async def work(session: AsyncSession) -> str:
        from vulnops.oncall import alerts

        return await alerts.add_source(
            session, key=key, kind=kind, service=service, actor=cli_actor()
        )

    secret = run_in_session(work)
    where = (
        "/api/alerts/pagerduty/v2/enqueue (as routing_key)"
        if kind == "pagerduty"
        else f"/api/alerts/alertmanager?key={secret}"
    )
    console.print(f"alert source {key} added; it sends to {where}")
    typer.echo(secret)
