"""``vulnops rollout …``: plan, start, watch and operate rollouts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from vulnops.auth.roles import Permission
from vulnops.cli.common import (
    JSON,
    acting_as,
    console,
    database,
    group,
    print_json,
    print_table,
    run,
    run_in_session,
    settings,
)

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.rollout import service
    from vulnops.rollout.models import Rollout

app = group("Safe rollouts of fixes.")
AS = typer.Option(None, "--as", help="Act as this account (email).")
POLICY = typer.Option("standard", "--policy", help="standard, expedited, emergency, …")
# How `watch` ends: 0 when every unit runs the fix, else the rollout did not get there.
WATCH_EXIT = {"completed": 0, "halted": 3, "rolled_back": 4, "aborted": 5}


@app.command("plan")
def plan(
    fix_id: int = typer.Argument(..., help="The fix."), policy: str = POLICY, as_json: bool = JSON
) -> None:
    """Print the stages a rollout of the fix would follow now; nothing starts."""

    async def work(session: AsyncSession) -> service.PlanPreview:
        from vulnops.rollout import service

        return await service.preview(
            session, viewer=None, fix_id=fix_id, policy_name=policy, settings=settings()
        )

    from vulnops.rollout.schemas import PlanOut

    shown = PlanOut.of(run_in_session(work))
    if as_json:
        print_json(shown)
        return
    console.print(
        f"{shown.service} → {shown.target_version}, policy {shown.policy}"
        + (" (needs an approver)" if shown.approval_required else ""),
        highlight=False,
    )
    print_table(
        ("stage", "kind", "regions", "units", "traffic", "cumulative", "bake", "gate"),
        [
            (
                str(stage.index),
                stage.kind,
                ", ".join(stage.regions),
                str(stage.units),
                f"{stage.traffic:.2%}",
                f"{stage.cumulative_traffic:.2%}",
                stage.bake,
                stage.gate,
            )
            for stage in shown.stages
        ],
        footer=f"{shown.already_on_target} unit(s) already run {shown.target_version}"
        if shown.already_on_target
        else None,
    )


@app.command("start")
def start(
    fix_id: int = typer.Argument(..., help="The fix."),
    policy: str = POLICY,
    approver: str | None = typer.Option(None, "--approver", help="Who must approve (email)."),
    backend: str | None = typer.Option(None, "--backend"),
    health_source: str | None = typer.Option(None, "--health-source"),
    as_user: str | None = AS,
) -> None:
    """Start rolling a fix out (or wait for the approver, when the policy asks for one)."""

    async def work(session: AsyncSession) -> Rollout:
        from vulnops.rollout import service

        actor = await acting_as(session, as_user, Permission.ROLLOUTS_MANAGE)
        return await service.start(
            session,
            viewer=None,  # the operator's CLI
            fix_id=fix_id,
            policy_name=policy,
            actor=actor,
            settings=settings(),
            now=datetime.now(UTC),
            approver=approver,
            backend=backend,
            health_source=health_source,
        )

    rollout = run_in_session(work)
    console.print(f"rollout {rollout.id}: {rollout.status.replace('_', ' ')}")


def _operation(name: str) -> Callable[[int, str, str | None], None]:
    def command(
        rollout_id: int = typer.Argument(...),
        reason: str = typer.Option("", "--reason"),
        as_user: str | None = AS,
    ) -> None:
        async def work(session: AsyncSession) -> Rollout:
            from vulnops.rollout import operations

            operate, permission = operations.named(name)
            actor = await acting_as(session, as_user, permission)
            return await operate(
                session,
                rollout_id=rollout_id,
                actor=actor,
                now=datetime.now(UTC),
                reason=reason,
                settings=settings(),
            )

        rollout = run_in_session(work)
        console.print(f"rollout {rollout.id}: {rollout.status.replace('_', ' ')}")

    return command


for _name, _help in (
    ("approve", "Approve an expedited rollout (as its named approver: --as)."),
    ("reject", "Refuse an expedited rollout (--reason; as its named approver: --as)."),
    ("pause", "Pause a running rollout."),
    ("resume", "Resume a paused rollout, or one halted by a unit that failed to deploy."),
    ("abort", "Stop for good, leaving every unit as it is (--reason)."),
    ("rollback", "Return every unit to its previous version (--reason)."),
):
    app.command(_name, help=_help)(_operation(_name))


async def _stage_actor(
    session: AsyncSession, as_user: str | None, permission: Permission
) -> tuple[str, frozenset[Permission]]:
    """Who acts, and what they may (the operator at this console may everything)."""
    from vulnops.auth import service as users
    from vulnops.auth.roles import Role, has_permission

    actor = await acting_as(session, as_user, permission)
    if as_user is None:
        return actor, frozenset(Permission)
    role = Role((await users.get_user_by_email(session, email=actor)).role)
    return actor, frozenset(p for p in Permission if has_permission(role, p))


@app.command("pass-stage")
def pass_stage(
    rollout_id: int = typer.Argument(...),
    stage: int = typer.Argument(..., min=1, help="The stage's number, from 1."),
    reason: str = typer.Option(..., "--reason"),
    as_user: str | None = AS,
) -> None:
    """Pass a baking stage by hand (a second person where the policy asks: --as)."""

    async def work(session: AsyncSession) -> Rollout:
        from vulnops.rollout import stage_operations

        actor, can = await _stage_actor(session, as_user, Permission.ROLLOUTS_READ)
        return await stage_operations.pass_stage(
            session,
            rollout_id=rollout_id,
            stage=stage - 1,
            actor=actor,
            can=can,
            reason=reason,
            now=datetime.now(UTC),
            settings=settings(),
        )

    rollout = run_in_session(work)
    console.print(f"rollout {rollout.id}: stage {stage} passed by hand")


@app.command("extend-stage")
def extend_stage(
    rollout_id: int = typer.Argument(...),
    stage: int = typer.Argument(..., min=1, help="The stage's number, from 1."),
    minutes: int = typer.Option(60, "--minutes", min=1, max=24 * 60),
    reason: str = typer.Option(..., "--reason"),
    as_user: str | None = AS,
) -> None:
    """Give a holding stage more time before it alerts or reaches its max_hold."""

    async def work(session: AsyncSession) -> Rollout:
        from datetime import timedelta

        from vulnops.rollout import stage_operations

        actor = await acting_as(session, as_user, Permission.ROLLOUTS_MANAGE)
        return await stage_operations.extend_stage(
            session,
            rollout_id=rollout_id,
            stage=stage - 1,
            by=timedelta(minutes=minutes),
            actor=actor,
            reason=reason,
            now=datetime.now(UTC),
        )

    rollout = run_in_session(work)
    console.print(f"rollout {rollout.id}: stage {stage} may hold {minutes} minutes more")


@app.command("exclude-unit")
def exclude_unit(
    rollout_id: int = typer.Argument(...),
    unit: int = typer.Argument(..., help="The unit's id."),
    reason: str = typer.Option(..., "--reason"),
    as_user: str | None = AS,
) -> None:
    """Leave a unit out of the gates' evidence (its crashes still count)."""

    async def work(session: AsyncSession) -> Rollout:
        from vulnops.rollout import stage_operations

        actor = await acting_as(session, as_user, Permission.ROLLOUTS_MANAGE)
        return await stage_operations.exclude_unit(
            session,
            rollout_id=rollout_id,
            unit_id=unit,
            actor=actor,
            reason=reason,
            now=datetime.now(UTC),
        )

    rollout = run_in_session(work)
    console.print(f"rollout {rollout.id}: unit {unit} left out of the evidence")


@app.command("list")
def list_rollouts(
    status: str | None = typer.Option(None, "--status", help="a status, or active"),
    as_json: bool = JSON,
) -> None:
    """Rollouts, newest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        from vulnops.rollout import service

        return list(
            (await service.list_rollouts(session, viewer=None, status=status, per_page=200)).items
        )

    found = run_in_session(work)
    if as_json:
        print_json(found)
        return
    print_table(
        ("rollout", "service", "version", "policy", "status", "units", "started by"),
        [
            (
                str(item["id"]),
                item["service"],
                item["target_version"],
                item["policy"],
                item["status"],
                ", ".join(f"{count} {state}" for state, count in sorted(item["units"].items())),
                item["started_by"],
            )
            for item in found
        ],
    )


def _snapshot(rollout_id: int) -> dict[str, Any]:
    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.rollout import snapshots

        found = await snapshots.snapshot(session, rollout_id=rollout_id)
        return found.model_dump(mode="json")

    return run_in_session(work)


@app.command("status")
def status(rollout_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """A rollout's stages, their gates and units."""
    snapshot = _snapshot(rollout_id)
    if as_json:
        print_json(snapshot)
        return
    console.print(_table(snapshot))


def _table(snapshot: dict[str, Any]) -> Table:
    from rich.table import Table

    table = Table(
        "stage",
        "kind",
        "regions",
        "status",
        "units deployed",
        "gate",
        title=f"{snapshot['service']} → {snapshot['target_version']} · {_line(snapshot)}",
    )
    for stage in snapshot["stages"]:
        deployed = sum(1 for unit in stage["units"] if unit[2] == "deployed")
        table.add_row(
            str(stage["index"] + 1),
            stage["kind"],
            ", ".join(stage["regions"]),
            stage["status"],
            f"{deployed}/{len(stage['units'])}",
            f"{stage['verdict'] or ''} {stage['verdict_reason']}".strip(),
        )
    return table


def _settled(snapshot: dict[str, Any]) -> bool:
    """Finished, or halted with its failed stage rolled back: nothing moves without a person."""
    if snapshot["status"] in {"completed", "rolled_back", "aborted"}:
        return True
    if snapshot["status"] != "halted":
        return False
    moving = {"deploying", "rolling_back"}
    return all(
        unit[2] not in moving and (stage["status"] != "failed" or unit[2] != "deployed")
        for stage in snapshot["stages"]
        for unit in stage["units"]
    )


def _line(snapshot: dict[str, Any]) -> str:
    state = snapshot["status"].replace("_", " ")
    return f"rollout {snapshot['id']}: {state} — {snapshot['status_reason']}"


@app.command("watch")
def watch(
    rollout_id: int = typer.Argument(...),
    every: float = typer.Option(1.0, "--every", help="Seconds between looks."),
) -> None:
    """Follow a rollout live, a progress bar per stage, until it settles (Ctrl-C to leave).
    Exits 0 when every unit runs the fix; 3 halted, 4 rolled back, 5 aborted."""
    import asyncio

    from rich.live import Live
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from vulnops.rollout import snapshots

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
    )
    tasks: dict[int, TaskID] = {}

    def draw(snapshot: dict[str, Any]) -> None:
        for stage in snapshot["stages"]:
            deployed = sum(1 for unit in stage["units"] if unit[2] == "deployed")
            note = f"{stage['status']} {stage['verdict'] or ''}".strip()
            if stage["index"] not in tasks:
                label = f"stage {stage['index'] + 1} {stage['kind']:<6}"
                tasks[stage["index"]] = progress.add_task(
                    label, total=len(stage["units"]), note=note
                )
            progress.update(tasks[stage["index"]], completed=deployed, note=note)

    async def follow() -> dict[str, Any]:
        async with database() as db:
            while True:
                async with db.session() as session:
                    found = await snapshots.snapshot(session, rollout_id=rollout_id)
                    snapshot = found.model_dump(mode="json")
                draw(snapshot)
                if _settled(snapshot):
                    return snapshot
                await asyncio.sleep(every)

    with Live(progress, console=console, refresh_per_second=4):
        final = run(follow())
    console.print(_line(final), highlight=False)
    raise typer.Exit(WATCH_EXIT.get(final["status"], 1))
