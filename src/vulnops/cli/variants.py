"""``vulnops hunt …`` and ``vulnops class …``: variant hunts from a case, and weakness classes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vulnops.cli.common import (
    JSON,
    acting_as,
    console,
    database,
    err_console,
    fail,
    group,
    print_json,
    print_table,
    run,
    run_in_session,
    settings,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.variants.schemas import ClassOut, FindingOut, HuntOut

hunt_app = group("Variant hunts: start one from a case, follow it, list what it found.")
class_app = group("Weakness classes (a CWE across services).")

STRATEGY = typer.Option(..., "--strategy", help="code, sarif, components, configuration, history")


def _cwe(text: str) -> int:
    found = re.fullmatch(r"(?i)(?:CWE-)?(\d{1,6})", text.strip())
    if not found:
        raise fail(f"{text!r} is not a CWE (write CWE-918 or 918)", 2)
    return int(found.group(1))


def _read(path: Path | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"{what} {path}: {error}", 2) from None


@hunt_app.command("start")
def start(
    case: str = typer.Argument(..., help="The case's tracking id (CASE-…)."),
    strategy: str = STRATEGY,
    rule: Path | None = typer.Option(None, "--rule", help="code: a Semgrep rule file (YAML)."),
    service: list[str] = typer.Option([], "--service", help="code: only this service's code."),
    sarif: Path | None = typer.Option(None, "--sarif", help="sarif: a SARIF 2.1.0 log."),
    purl: str = typer.Option("", "--purl", help="components: a package URL."),
    version_range: str = typer.Option("", "--range", help="components: a vers: range."),
    tag_all: list[str] = typer.Option([], "--tag-all", help="configuration: a tag they all have."),
    tag_any: list[str] = typer.Option([], "--tag-any", help="configuration: one of these tags."),
    tag_none: list[str] = typer.Option([], "--tag-none", help="configuration: none of these."),
    cwe: str | None = typer.Option(None, "--cwe", help="history: the weakness (else the case's)."),
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="Run it here with a progress bar (else a worker runs it)."
    ),
    actor: str | None = typer.Option(None, "--as", help="Act as this account (by email)."),
    as_json: bool = JSON,
) -> None:
    """Start a hunt; by default run it here, a progress bar per repository scanned."""
    from pydantic import ValidationError

    from vulnops.auth.roles import Permission

    config = settings()
    fields: dict[str, Any] = {
        "strategy": strategy,
        "rule": _read(rule, "rule") or "",
        "services": service,
        "purl": purl,
        "range": version_range,
        "tags_all": tag_all,
        "tags_any": tag_any,
        "tags_none": tag_none,
        "cwe_id": _cwe(cwe) if cwe else None,
    }
    log_text = _read(sarif, "SARIF log")

    async def begin(session: AsyncSession) -> int:
        from vulnops.cases import service as cases
        from vulnops.parsing_limits import load_json
        from vulnops.variants import hunts
        from vulnops.variants.schemas import HuntIn

        who = await acting_as(session, actor, Permission.VARIANTS_HUNT)
        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        try:
            given = HuntIn.model_validate(fields)
        except ValidationError as error:
            raise fail(f"{error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}", 2) from None
        log = None
        if log_text is not None:
            log = load_json(log_text, max_bytes=config.max_sarif_bytes, source=str(sarif))
        hunt = await hunts.start(
            session, case_id=found.id, given=given, actor=who, settings=config, sarif_log=log
        )
        return hunt.id

    hunt_id = run_in_session(begin)
    if wait:
        _follow(hunt_id)
    view = _status(hunt_id)
    if as_json:
        print_json(view)
        return
    console.print(f"hunt {hunt_id}: {view.state}, {view.findings} finding(s)", highlight=False)
    if view.error:
        console.print(f"[yellow]{view.error}[/yellow]", highlight=False)


def _follow(hunt_id: int) -> None:
    """Run the hunt in this process (its job then finds it done), drawing its progress."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from vulnops.variants import hunts, running

    config = settings()
    progress = Progress(
        TextColumn("hunt {task.fields[hunt]}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,  # standard output stays the answer (--json)
    )

    async def main() -> None:
        async with database() as db:
            work = asyncio.create_task(running.run(db, hunt_id=hunt_id, settings=config))
            task = progress.add_task("", total=None, hunt=hunt_id)
            while True:
                async with db.session() as session:
                    view = await hunts.view(session, hunt=await hunts.get(session, hunt_id=hunt_id))
                progress.update(
                    task, total=view.locations_total or 1, completed=view.locations_done
                )
                if work.done():
                    await work
                    progress.update(task, completed=view.locations_total or 1)
                    return
                await asyncio.sleep(0.25)

    with progress:
        run(main())


def _status(hunt_id: int) -> HuntOut:
    async def work(session: AsyncSession) -> HuntOut:
        from vulnops.variants import hunts

        return await hunts.view(session, hunt=await hunts.get(session, hunt_id=hunt_id))

    return run_in_session(work)


@hunt_app.command("status")
def status(hunt_id: int = typer.Argument(..., min=1), as_json: bool = JSON) -> None:
    """A hunt's state, progress and the repositories it scanned (or could not)."""
    view = _status(hunt_id)
    if as_json:
        print_json(view)
        return
    console.print(
        f"hunt {view.id} ({view.strategy}) of case {view.case_id}: {view.state}; "
        f"{view.findings} finding(s), {view.candidates} to decide",
        highlight=False,
    )
    if view.locations:
        print_table(
            ("service", "repository", "state", "findings", "message"),
            [
                (loc.service, loc.location, loc.state, str(loc.findings), loc.message)
                for loc in view.locations
            ],
            footer=f"{view.locations_done} of {view.locations_total} scanned",
        )
    if view.error:
        console.print(f"[yellow]{view.error}[/yellow]", highlight=False)


@hunt_app.command("findings")
def findings(
    hunt_id: int = typer.Argument(..., min=1),
    state: str | None = typer.Option(None, help="candidate, variant, duplicate, not_a_problem"),
    page: int = typer.Option(1, min=1),
    as_json: bool = JSON,
) -> None:
    """A page of a hunt's findings."""

    async def work(session: AsyncSession) -> list[FindingOut]:
        from vulnops.variants import hunts

        found = await hunts.findings_page(
            session,
            hunt=await hunts.get(session, hunt_id=hunt_id),
            viewer=None,
            state=state,
            page=page,
            per_page=200,
        )
        return list(found.items)

    rows = run_in_session(work)
    if as_json:
        print_json(rows)
        return
    print_table(
        ("id", "state", "service", "location", "title"),
        [(str(f.id), f.state, f.service or "", f.location, f.title) for f in rows],
        footer=f"{len(rows)} finding(s) on page {page}",
    )


@class_app.command("show")
def show(cwe: str = typer.Argument(..., help="CWE-918, or 918"), as_json: bool = JSON) -> None:
    """A class: its state, cases, open variants, improvements and where it recurred."""
    from datetime import UTC, datetime

    cwe_id = _cwe(cwe)

    async def work(session: AsyncSession) -> ClassOut:
        from vulnops.variants import classes

        return await classes.show(
            session, cwe_id=cwe_id, viewer=None, today=datetime.now(UTC).date()
        )

    found = run_in_session(work)
    if as_json:
        print_json(found)
        return
    line = " > ".join(f"CWE-{a.cwe_id} {a.name}" for a in reversed(found.ancestors))
    console.print(
        f"CWE-{cwe_id} {found.weakness.name} ({found.weakness.abstraction}): {found.state}",
        highlight=False,
    )
    if line:
        console.print(f"in CWE-1000: {line}", highlight=False)
    console.print(
        f"{len(found.cases)} case(s), {found.open_variants} open variant(s); improvements "
        f"{found.improvements_done} done, {found.improvements_open} open; {found.guards} guard(s)",
        highlight=False,
    )
    print_table(
        ("case", "relation", "state", "fixed", "services", "title"),
        [
            (
                c.tracking_id,
                c.relation or "",
                c.state,
                "yes" if c.fixed else "no",
                ", ".join(c.services),
                c.title,
            )
            for c in found.cases
        ],
    )
