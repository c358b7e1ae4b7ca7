"""The fleet inventory at scale, on the same 2-core machine as the database:

- ``vulnops fleet import`` of the large generated fleet (62 regions, ~3,000 units, 100k tenants,
  1M resources), run as the command a user runs, then the same import again (every row an update);
- the class-wide component question over 1,000 SBOMs (the three real CycloneDX samples of
  ``../shared/samples`` and the generated ones, ~150k components);
- a case's blast radius for a service and region subset once the fleet holds 10M resources, and
  the first page of its affected tenants.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.common import Stopwatch, fresh_database, server, summary_ms, write_results
from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.fleet import blast, generator, importer, sbom, service
from vulnops.settings import Settings

SEED = 7
HISTORY = 97  # older versions per service, so that 10 services x (3 + 97) = 1,000 SBOMs
MULTIPLY_TO = 10  # copies of each resource: 1M -> 10M
SAMPLES = 30
SAMPLE_SBOMS = Path(__file__).resolve().parents[2] / "shared" / "samples" / "cyclonedx"
LOG4J = [f"2.{minor}.{patch}" for minor in range(0, 18) for patch in range(0, 3)]
COMPONENT_QUERIES = [
    ("pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/>=2.0.0|<2.17.1"),
    ("pkg:npm/lodash", "vers:npm/<4.17.21"),
    ("pkg:deb/debian/bash", "vers:deb/<5.1"),
    ("pkg:composer/laravel/framework", None),
]
SUBSET = blast.BlastCriteria(
    services=["storage", "identity"],
    regions=["eu-west-1", "eu-west-2", "us-west-1", "us-west-2", "ap-west-1", "ap-west-2"],
)


def _vulnops(*args: str, database_url: str) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own command
        [str(Path(sys.executable).parent / "vulnops"), *args],
        check=True,
        env={**os.environ, "VULNOPS_DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


async def _imports(database: Database, directory: Path) -> dict[str, Any]:
    first = _vulnops("fleet", "import", str(directory), database_url=database.conninfo)
    again = _vulnops("fleet", "import", str(directory), database_url=database.conninfo)
    async with database.session() as session:
        counts = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM resources) AS resources, "
                    "(SELECT count(*) FROM tenants) AS tenants, "
                    "(SELECT count(*) FROM deployment_units) AS units"
                )
            )
        ).one()
    return {
        **dict(counts._mapping),
        "first_import_s": round(first, 1),
        "reimport_s": round(again, 1),
    }


def _history_sboms() -> list[sbom.ParsedSbom]:
    samples = [
        sbom.parse(path.read_text(), source=path.name) for path in sorted(SAMPLE_SBOMS.glob("*"))
    ]
    if not samples:
        raise SystemExit(f"the CycloneDX samples are missing from {SAMPLE_SBOMS}")
    return samples


async def load_history(database: Database) -> dict[str, Any]:
    """``HISTORY`` older versions of every service, each SBOM one of the real samples plus a
    log4j-core of a version that moves from one to the next (the variants benchmark too)."""
    samples = _history_sboms()
    async with database.session() as session:
        services = list(await session.scalars(text("SELECT key FROM services ORDER BY key")))
        watch = Stopwatch()
        for index in range(HISTORY):
            for number, key in enumerate(services):
                base = samples[(index + number) % len(samples)]
                log4j = LOG4J[(index * 7 + number) % len(LOG4J)]
                extra = sbom.Package(
                    purl=f"pkg:maven/org.apache.logging.log4j/log4j-core@{log4j}",
                    type="maven",
                    namespace="org.apache.logging.log4j",
                    name="log4j-core",
                    version=log4j,
                )
                parsed = sbom.ParsedSbom(
                    spec_version=base.spec_version,
                    document=base.document,
                    packages=[*base.packages, extra],
                    without_purl=base.without_purl,
                )
                await importer.import_sbom(
                    session, service_key=key, version=f"2025.{index + 1}", parsed=parsed
                )
        await session.execute(text("ANALYZE components; ANALYZE service_versions"))
        await session.commit()
        loaded = watch.seconds
        totals = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM service_versions) AS sboms, "
                    "(SELECT count(*) FROM components) AS components"
                )
            )
        ).one()
    return {**dict(totals._mapping), "history_import_s": round(loaded, 1)}


async def _component_query(database: Database) -> dict[str, Any]:
    loaded = await load_history(database)
    queries: dict[str, Any] = {}
    for purl, version_range in COMPONENT_QUERIES:
        samples_s: list[float] = []
        found = 0
        async with database.session() as session:
            for _ in range(SAMPLES):
                watch = Stopwatch()
                match = await service.services_with_component(
                    session, purl=purl, version_range=version_range
                )
                samples_s.append(watch.seconds)
                found = len(match.services)
        queries[f"{purl} {version_range or '(any version)'}"] = {
            "service_versions_found": found,
            **summary_ms(samples_s),
        }
    return {**loaded, "queries": queries}


async def _multiply_resources(database: Database) -> dict[str, Any]:
    watch = Stopwatch()
    async with database.session() as session:
        await session.execute(
            text(
                """
                INSERT INTO resources (tenant_id, unit_id, external_id, tags)
                SELECT tenant_id, unit_id, external_id || '-' || copy, tags
                FROM resources CROSS JOIN generate_series(2, :copies) AS copy
                """
            ),
            {"copies": MULTIPLY_TO},
        )
        await session.commit()
    return {"multiplied_in_s": round(watch.seconds, 1)}


async def _vacuum(database: Database) -> None:
    async with database.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE resources"))


async def _blast(database: Database) -> dict[str, Any]:
    async with database.session() as session:
        case = await cases.open_case(
            session,
            title="Benchmark: header injection in the storage and identity front ends",
            summary="",
            services=["storage", "identity"],
            actor="bench",
            settings=Settings(),
            now=datetime.now(UTC),
        )
        await session.commit()
        resources = await session.scalar(text("SELECT count(*) FROM resources"))
    results: dict[str, Any] = {"resources_in_fleet": resources}
    runs = {
        "service_and_region_subset": SUBSET,
        "subset_with_tag_predicate": SUBSET.model_copy(update={"tags_any": ["public-endpoint"]}),
        "component_range_everywhere": blast.BlastCriteria(
            component=blast.ComponentCriterion(
                purl="pkg:maven/org.apache.logging.log4j/log4j-core",
                range="vers:maven/>=2.0.0|<2.17.1",
            )
        ),
    }
    for name, criteria in runs.items():
        compute_s: list[float] = []
        page_s: list[float] = []
        radius: dict[str, int] = {}
        for _ in range(5):
            async with database.session() as session:
                watch = Stopwatch()
                computed = await blast.compute(
                    session, case_id=case.id, criteria=criteria, actor="bench"
                )
                await session.commit()
                compute_s.append(watch.seconds)
                radius = {
                    "units": computed.units,
                    "tenants": computed.tenants,
                    "resources": computed.resources,
                }
            async with database.session() as session:
                watch = Stopwatch()
                await blast.affected_tenants(session, case_id=case.id, page=1, per_page=100)
                page_s.append(watch.seconds)
        results[name] = {
            **radius,
            "compute": summary_ms(compute_s),
            "first_page_of_tenants": summary_ms(page_s),
        }
    return results


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vulnops-fleet-") as scratch, server() as url:
        directory = Path(scratch) / "fleet"
        watch = Stopwatch()
        generated = generator.write(directory, seed=SEED, scale_name="large")
        generated_s = round(watch.seconds, 1)
        async with fresh_database(url) as database:
            imports = await _imports(database, directory)
            components = await _component_query(database)
            multiplied = await _multiply_resources(database)
            await _vacuum(database)
            radius = await _blast(database)
    results = {
        "generated": {**generated, "seconds": generated_s},
        "import": imports,
        "class_wide_component_query": components,
        "ten_million_resources": multiplied,
        "blast_radius": radius,
    }
    write_results("fleet", results)
    return results
