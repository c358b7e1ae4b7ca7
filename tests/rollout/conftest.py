"""A small generated fleet, and fixes ready to roll out, for the rollout tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db.database import Database
from vulnops.fleet import generator, importer
from vulnops.remediation import service as remediation
from vulnops.settings import Settings

SEED = 7
PASSING = b"""<?xml version="1.0"?>
<testsuite name="suite" tests="3"><testcase classname="c" name="a"/><testcase classname="c"
name="b"/><testcase classname="c" name="skipped"><skipped/></testcase></testsuite>"""
FAILING = b"""<testsuite name="suite"><testcase classname="c" name="a"><failure
message="boom">trace</failure></testcase><testcase classname="c" name="b"/></testsuite>"""


async def _pieces(pieces: Iterator[str]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece.encode()


@pytest.fixture
async def fleet(db: Database) -> dict[str, object]:
    """The small demo fleet (10 regions, 5 services), imported."""
    topology = generator.topology(SEED, "small")
    async with db.session() as session:
        await importer.import_bundle(
            session,
            actor="test",
            topology=(json.dumps(topology), "topology"),
            tenants=(
                _pieces(
                    generator.csv_text(
                        generator.tenant_rows(SEED, "small"), importer.TENANT_COLUMNS
                    )
                ),
                "tenants.csv",
            ),
            sboms=[
                importer.SbomIn(service=s, version=v, text=json.dumps(doc), source=f"{s}@{v}")
                for s, v, doc in generator.sboms(SEED, "small")
            ],
        )
        await session.commit()
    return topology


FixMaker = Callable[..., Awaitable[int]]


@pytest.fixture
def make_fix(db: Database) -> FixMaker:
    """A case with a fix of ``service`` at ``version``, with passing evidence unless told."""

    async def make(
        version: str, *, service: str = "storage", evidence: bool = True, actor: str = "test"
    ) -> int:
        async with db.session() as session:
            case = await cases.open_case(
                session,
                title=f"Fix {service} {version}",
                summary="",
                services=[service],
                actor=actor,
                policy=cases.sla_policy(None),
                now=datetime.now(UTC),
            )
            for state in (CaseState.TRIAGING, CaseState.REMEDIATING):
                await cases.transition(
                    session,
                    case_id=case.id,
                    target=state,
                    reason=None,
                    actor=actor,
                    now=datetime.now(UTC),
                )
            fix = await remediation.create_fix(
                session,
                case_id=case.id,
                service_key=service,
                version=version,
                artifact=f"registry.example/{service}:{version}",
                notes="",
                actor=actor,
            )
            if evidence:
                for suite in ("compatibility", "data-integrity"):
                    await remediation.add_evidence(
                        session,
                        fix_id=fix.id,
                        suite=suite,
                        data=PASSING,
                        file_name=f"{suite}.xml",
                        actor=actor,
                    )
            await session.commit()
            return fix.id

    return make


@dataclass
class Clock:
    """Virtual time for the controller (and the simulated fleet that runs on it)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))


@pytest.fixture
def sim_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "rollout_backend": "simulated",
            "health_source": "simulated",
            "sim_requests_per_second": 2_000_000,
        }
    )
