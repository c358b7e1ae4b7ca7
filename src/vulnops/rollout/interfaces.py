"""The small interfaces the controller works through: a deployment **backend** changes what a
unit runs and says what it runs now; a **health source** says what units served in a window.
Implementations are found by name (registry.py); each lives in a module of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from vulnops.rollout.samples import UnitSample

if TYPE_CHECKING:
    from vulnops.db.database import Database
    from vulnops.settings import Settings


@dataclass(frozen=True)
class Target:
    """A deployment unit, as a backend or health source needs to know it."""

    unit_id: int
    service: str
    region: str
    scale_unit: str
    tags: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.service}/{self.region}/{self.scale_unit}"


class DeployError(Exception):
    """The backend could not change the unit; the controller retries with backoff."""


class HealthUnavailable(Exception):
    """The health source could not answer; the gate holds (and alerts if it lasts)."""


class Backend(Protocol):
    async def deploy(self, target: Target, version: str, *, key: str) -> None:
        """Make ``target`` run ``version``; ``key`` is the same for every retry of this change,
        so that an implementation may recognise a change it already made."""

    async def current_version(self, target: Target) -> str | None:
        """What ``target`` runs now, or None if the backend cannot tell."""


class HealthSource(Protocol):
    async def observe(
        self, targets: Sequence[Target], start: datetime, end: datetime
    ) -> Mapping[int, UnitSample]:
        """What each target served in [start, end), by unit id; units without data are left
        out."""


@dataclass(frozen=True)
class Context:
    """What a backend or health source may use: the settings, and the database (the simulated
    fleet keeps its state there). A rollout being started builds its backend without one, to
    check the configuration; only the controller's has it. ``clock`` is the controller's (the
    simulated fleet runs on it, so that tests can run a rollout in virtual time)."""

    settings: Settings
    database: Database | None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
