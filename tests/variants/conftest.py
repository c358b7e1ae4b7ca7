"""Shared pieces of the variants tests: small source repositories with an SSRF pattern, the
rule that finds it, services that own them, and a case to hunt from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.fleet.models import Service
from vulnops.settings import Settings

SSRF_RULE = """\
rules:
- id: ssrf-user-url
  languages: [python]
  severity: ERROR
  message: fetches a URL the caller chose
  pattern: requests.get(request.args[...])
"""

VULNERABLE = """\
import requests
from flask import request


def {name}():
    return requests.get(request.args["url"])
"""

CLEAN = """\
import requests


def thumbnail():
    return requests.get("https://images.internal/thumbnail")
"""


def make_repositories(root: Path) -> dict[str, Path]:
    """storage: two instances of the pattern in different files; billing: clean."""
    storage, billing = root / "storage", root / "billing"
    (storage / "images").mkdir(parents=True)
    (storage / "images" / "importer.py").write_text(VULNERABLE.format(name="import_image"))
    (storage / "webhooks.py").write_text("\n\n" + VULNERABLE.format(name="preview"))
    billing.mkdir()
    (billing / "thumbnails.py").write_text(CLEAN)
    return {"storage": storage, "billing": billing}


@pytest.fixture
async def services(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = [Service(key=key, name=key.title()) for key in ("storage", "billing")]
        session.add_all(rows)
        await session.commit()
        return {row.key: row.id for row in rows}


Opener = Callable[..., Awaitable[int]]


@pytest.fixture
def open_case(db: Database, settings: Settings) -> Opener:
    async def make(
        title: str = "SSRF in the image importer",
        *,
        cwe_id: int | None = 918,
        restricted: bool | None = None,
        owner_id: int | None = None,
        services: tuple[str, ...] = ("storage",),
    ) -> int:
        async with db.session() as session:
            case = await cases.open_case(
                session,
                title=title,
                summary="",
                services=list(services),
                actor="test",
                settings=settings,
                owner_id=owner_id,
                restricted=restricted,
                cwe_id=cwe_id,
                now=datetime.now(UTC),
            )
            await session.commit()
            return case.id

    return make


@pytest.fixture
async def hunter(db: Database, make_user: MakeUser) -> dict[str, str]:
    return bearer(await api_token(db, await make_user(Role.ENGINEER)))


async def hunt_state(client: httpx.AsyncClient, hunt_id: int, headers: dict[str, str]) -> str:
    response = await client.get(f"/api/hunts/{hunt_id}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["state"])
