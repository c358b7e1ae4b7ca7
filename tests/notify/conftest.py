"""Fixtures of the notification tests (see notify_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from notify_world import Receiver, world_maker

from helpers import serving
from vulnops.db.database import Database
from vulnops.settings import Settings


@pytest.fixture
def make_world(db: Database, fleet: dict[str, Any], settings: Settings) -> Any:
    return world_maker(db, fleet, settings)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    with serving(hook.app()) as base:
        yield hook, f"{base}/hook"
