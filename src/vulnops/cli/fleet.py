"""``vulnops fleet …``: import, export and generate the inventory; the class-wide component
question; a case's blast radius."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.fleet import importer, service

app = group("The fleet inventory.")
CHUNK = 1024 * 1024


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    import anyio

    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(CHUNK):
            yield chunk


@app.command("import")
def import_(
    directory: Path | None = typer.Argument(
        None, exists=True, file_okay=False, help="A directory laid out as `export` writes it."
    ),
    topology: Path | None = typer.Option(None, exists=True, dir_okay=False),
    tenants: Path | None = typer.Option(None, exists=True, dir_okay=False),
    resources: Path | None = typer.Option(None, exists=True, dir_okay=False),
    sbom: list[Path] | None = typer.Option(
        None, exists=True, dir_okay=False, help="<service>@<version>.cdx.json (repeatable)."
    ),
) -> None:
    """Import topology (YAML/JSON), tenants and resources (CSV) and SBOMs — all or nothing."""
    if directory is not None:
        topology = topology or _existing(directory / "topology.yaml")
        tenants = tenants or _existing(directory / "tenants.csv")
        resources = resources or _existing(directory / "resources.csv")
        sbom = (sbom or []) + sorted((directory / "sboms").glob("*.json"))

    async def work(session: AsyncSession) -> importer.ImportSummary:
        from vulnops.fleet import importer

        sboms = []
        for path in sbom or []:
            target, version = importer.sbom_target(path.name)
            sboms.append(
                importer.SbomIn(
                    service=target, version=version, text=path.read_bytes(), source=str(path)
                )
            )
        return await importer.import_bundle(
            session,
            actor=cli_actor(),
            topology=(topology.read_text(), str(topology)) if topology else None,
            tenants=(file_chunks(tenants), str(tenants)) if tenants else None,
            resources=(file_chunks(resources), str(resources)) if resources else None,
            sboms=sboms,
        )

    summary = run_in_session(work)
    console.print(
        ", ".join(f"{value} {name}" for name, value in summary.__dict__.items()) + " imported"
    )


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


@app.command("export")
def export(directory: Path = typer.Argument(..., file_okay=False)) -> None:
    """Write the inventory as topology.yaml, tenants.csv, resources.csv and sboms/."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sboms").mkdir(exist_ok=True)

    async def work(session: AsyncSession) -> None:
        import json

        import yaml

        from vulnops.fleet import exporter

        document = await exporter.topology(session)
        (directory / "topology.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        for name, statement in (
            ("tenants.csv", exporter.TENANTS_COPY),
            ("resources.csv", exporter.RESOURCES_COPY),
        ):
            with (directory / name).open("wb") as handle:
                async for chunk in exporter.copy_out(session, statement):
                    handle.write(chunk)
        async for service_key, version, sbom in exporter.sboms(session):
            (directory / "sboms" / f"{service_key}@{version}.cdx.json").write_text(
                json.dumps(sbom, indent=1)
            )

    run_in_session(work)
    console.print(f"inventory written to {directory}")


@app.command("generate")
def generate(
    directory: Path = typer.Argument(..., file_okay=False),
    seed: int = typer.Option(1, help="The same seed gives the same fleet."),
    scale: str = typer.Option("small", help="small or large."),
    load: bool = typer.Option(False, "--import", help="Also import what was written."),
) -> None:
    """Write a deterministic demo fleet (and import it with --import)."""
    from vulnops.fleet import generator

    if scale not in generator.SCALES:
        raise typer.BadParameter(f"one of {', '.join(generator.SCALES)}", param_hint="--scale")
    counts = generator.write(directory, seed=seed, scale_name=scale)
    console.print(
        ", ".join(f"{value} {name}" for name, value in counts.items()) + f" in {directory}"
    )
    if load:
        import_(directory, None, None, None, None)


@app.command("components")
def components(
    purl: str = typer.Argument(..., help="A package URL, e.g. pkg:npm/lodash"),
    version_range: str | None = typer.Option(None, "--range", help="A vers: range."),
    as_json: bool = JSON,
) -> None:
    """Which services (and versions) contain this package in this range."""

    async def work(session: AsyncSession) -> service.ComponentMatch:
        from vulnops.fleet import service

        return await service.services_with_component(
            session, purl=purl, version_range=version_range
        )

    match = run_in_session(work)
    if as_json:
        print_json(match.__dict__)
        return
    print_table(
        ("service", "version", "component versions", "units running it"),
        [
            (
                row["service"],
                row["service_version"],
                ", ".join(row["component_versions"]),
                str(row["units"]),
            )
            for row in match.services
        ],
        footer=f"{match.package} versions in range: {', '.join(match.versions_in_range) or 'none'}",
    )


@app.command("blast-radius")
def blast_radius(
    case: str = typer.Argument(..., help="The case's tracking id."),
    service_keys: list[str] | None = typer.Option(None, "--service"),
    regions: list[str] | None = typer.Option(None, "--region"),
    versions: list[str] | None = typer.Option(None, "--version"),
    purl: str | None = typer.Option(None, "--component", help="A package URL."),
    version_range: str | None = typer.Option(None, "--range", help="A vers: range."),
    tags_all: list[str] | None = typer.Option(None, "--tag", help="Resources with this tag."),
    as_json: bool = JSON,
) -> None:
    """Compute and keep a case's blast radius; print its counts by region and service."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.cases import service as cases
        from vulnops.fleet import blast

        found = await cases.get_case_by_tracking_id(session, tracking_id=case)
        criteria = blast.BlastCriteria(
            services=service_keys or [],
            regions=regions or [],
            versions=versions or [],
            component=blast.ComponentCriterion(purl=purl, range=version_range) if purl else None,
            tags_all=tags_all or [],
        )
        radius = await blast.compute(
            session, case_id=found.id, criteria=criteria, actor=cli_actor()
        )
        return {
            "case": found.tracking_id,
            "units": radius.units,
            "tenants": radius.tenants,
            "resources": radius.resources,
            "by_region": radius.by_region,
            "by_service": radius.by_service,
        }

    result = run_in_session(work)
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result['case']}: {result['units']} units, {result['tenants']} tenants, "
        f"{result['resources']} resources"
    )
