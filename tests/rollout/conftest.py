"""Virtual time and the simulated fleet's settings, for the rollout tests (the fleet and fixes
ready to roll out are fixtures of the whole suite)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpers import Clock
from vulnops.settings import Settings


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
