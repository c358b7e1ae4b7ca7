"""The on-call the paging tests share: a weekly rotation in Paris and the default policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from helpers import MakeUser
from oncall.oncall_world import ONCALL
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.oncall import importer

NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 03:00 in Paris, a Wednesday


@pytest.fixture
async def oncall(db: Database, make_user: MakeUser) -> None:
    for name in ("alice", "bob", "lead"):
        await make_user(Role.RESPONDER, email=f"{name}@example.com")
    async with db.session() as session:
        await importer.import_document(
            session, text_=yaml.safe_dump(ONCALL), source="t", actor="t", now=NOW
        )
        await session.commit()
