"""The demo fleet (the small generated one) and blast radii for some demo cases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.fleet import blast, generator, importer, tenant_import
from vulnops.settings import get_settings

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

SEED = 7
SCALE = "small"


async def _chunks(pieces: Iterator[str]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece.encode()


async def seed_fleet(session: AsyncSession, context: DemoContext) -> None:
    topology = generator.topology(SEED, SCALE)
    await importer.import_bundle(
        session,
        actor="demo",
        topology=(json.dumps(topology), "demo topology"),
        tenants=(
            _chunks(
                generator.csv_text(generator.tenant_rows(SEED, SCALE), tenant_import.TENANT_COLUMNS)
            ),
            "demo tenants.csv",
        ),
        resources=(
            _chunks(
                generator.csv_text(
                    generator.resource_rows(SEED, SCALE, topology), importer.RESOURCE_COLUMNS
                )
            ),
            "demo resources.csv",
        ),
        sboms=[
            importer.SbomIn(
                service=service,
                version=version,
                text=json.dumps(sbom),
                source=f"{service}@{version}",
            )
            for service, version, sbom in generator.sboms(SEED, SCALE)
        ],
    )


async def seed_blast_radii(session: AsyncSession, context: DemoContext) -> None:
    """A component-wide case (an old log4j in older service versions), and the storage SSRF."""
    log4j = await cases.open_case(
        session,
        title="JNDI lookup in log4j-core in older service builds",
        summary="Services still running builds with log4j-core < 2.17.1 resolve JNDI lookups "
        "from logged strings.",
        services=[],
        actor="demo",
        settings=get_settings(),
        now=datetime.now(UTC),
    )
    await blast.compute(
        session,
        case_id=log4j.id,
        criteria=blast.BlastCriteria(
            component=blast.ComponentCriterion(
                purl="pkg:maven/org.apache.logging.log4j/log4j-core",
                range="vers:maven/>=2.0.0|<2.17.1",
            )
        ),
        actor="demo",
    )
    ssrf = await cases.list_cases(
        session, viewer=None, now=datetime.now(UTC), search="SSRF image importer"
    )
    if ssrf.items:
        await blast.compute(
            session,
            case_id=ssrf.items[0].id,
            criteria=blast.BlastCriteria(services=["storage"], tags_any=["public-endpoint"]),
            actor="demo",
        )
