"""``vulnops sim …``: the simulated fleet's misbehaving releases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from vulnops.cli.common import JSON, console, group, print_json, print_table, run_in_session
from vulnops.durations import parse_duration

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

app = group("The simulated fleet (the demo's backend and health source).")


@app.command("fault")
def fault(
    service_key: str = typer.Argument(..., help="The service."),
    version: str = typer.Argument(..., help="The release that misbehaves."),
    errors: float = typer.Option(1.0, "--errors", help="Error rate multiplier."),
    latency: float = typer.Option(1.0, "--latency", help="Latency multiplier."),
    crash_after: str | None = typer.Option(None, "--crash-after", help="e.g. 30m"),
    only_tag: str | None = typer.Option(None, "--only-tag", help="Only on units with this tag."),
) -> None:
    """Make a release of a service misbehave in the simulated fleet."""
    from vulnops.sim import service
    from vulnops.sim.model import Fault

    try:
        crash = parse_duration(crash_after, where="--crash-after") if crash_after else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if errors <= 0 or latency <= 0:
        raise typer.BadParameter("multipliers must be positive")
    chosen = Fault(
        error_multiplier=errors, latency_multiplier=latency, crash_after=crash, only_tag=only_tag
    )

    async def work(session: AsyncSession) -> None:
        await service.set_fault(session, service_key=service_key, version=version, fault=chosen)

    run_in_session(work)
    console.print(f"{service_key} {version}: {service.fault_to_json(chosen)}")


@app.command("faults")
def faults(as_json: bool = JSON) -> None:
    """The misbehaving releases."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        from vulnops.sim import service

        return await service.all_faults(session)

    found = run_in_session(work)
    if as_json:
        print_json(found)
        return
    print_table(
        ("service", "version", "fault"),
        [(row["service"], row["version"], str(row["fault"])) for row in found],
    )
