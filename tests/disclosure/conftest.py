"""The disclosure tests' shared world: a local server answering the CVE Services endpoints
cvelib calls (the real service is not reachable here), settings of a CNA pointed at it, a
mitigated case customers must act on, and two communications owners."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from disclosure.cve_peer import ORG, CveServicesDouble
from helpers import MakeUser, api_token, bearer, serving
from notify.notify_world import World, world_maker
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings


@pytest.fixture
def cve_services() -> Iterator[tuple[CveServicesDouble, str]]:
    double = CveServicesDouble()
    with serving(double.app()) as base:
        yield double, f"{base}/api/"


@pytest.fixture
def cna(settings: Settings, cve_services: tuple[CveServicesDouble, str]) -> Settings:
    """Settings of a CNA whose CVE Services is the double."""
    return settings.model_copy(
        update={
            "cna_org_id": ORG,
            "cve_services_url": cve_services[1],
            "cve_services_user": "cna@example.com",
            "cve_services_api_key": SecretStr("k-123"),
        }
    )


@pytest.fixture
async def world(db: Database, fleet: dict[str, Any], settings: Settings) -> World:
    """A storage case customers must act on (a CVE is needed), mitigated."""
    made: World = await world_maker(db, fleet, settings)()
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET customer_action_required = true, cwe_id = 284 WHERE id = :c"),
            {"c": made.case_id},
        )
        await session.commit()
    return made


@pytest.fixture
async def comms(db: Database, make_user: MakeUser) -> dict[str, str]:
    return bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))


@pytest.fixture
async def second(db: Database, make_user: MakeUser) -> dict[str, str]:
    """Another communications owner: the second pair of eyes."""
    return bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
