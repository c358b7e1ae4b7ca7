"""Demo data for ``vulnops serve --demo``: each domain adds a seeder here, run once each.

A seeder runs in its own transaction and is marked done in ``demo_seeds``; a seeder added by a
later version runs on the next start, so that the demo always shows every capability.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.auth.demo import seed_accounts
from vulnops.bounty.demo import seed_bounty, seed_recognition
from vulnops.cases.demo import seed_need_to_know
from vulnops.db.base import Base, created_at_column
from vulnops.db.database import Database
from vulnops.disclosure.demo import seed_disclosures
from vulnops.fleet.demo import seed_blast_radii, seed_fleet
from vulnops.intake.demo import seed_reports
from vulnops.notify.demo import seed_advisories
from vulnops.oncall.demo import seed_oncall
from vulnops.review.demo import seed_reviews
from vulnops.sim.demo import seed_rollouts
from vulnops.tenants.demo import seed_tenants
from vulnops.variants.demo import seed_variants


class DemoSeed(Base):
    __tablename__ = "demo_seeds"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seeded_at: Mapped[datetime] = created_at_column()


@dataclass
class DemoContext:
    now: datetime
    rng: random.Random
    credentials: list[tuple[str, str, str]] = field(default_factory=list)
    # For a seeder that runs a job's work itself (the demo's code hunt, one transaction per
    # repository, as the worker would).
    database: Database | None = None

    def login(self, role: str, email: str, password: str) -> None:
        self.credentials.append((role, email, password))


Seeder = Callable[[AsyncSession, DemoContext], Awaitable[None]]

SEEDERS: tuple[tuple[str, Seeder], ...] = (
    ("tenants", seed_tenants),
    ("accounts", seed_accounts),
    ("oncall", seed_oncall),
    ("fleet", seed_fleet),
    ("reports", seed_reports),
    ("blast-radii", seed_blast_radii),
    ("rollouts", seed_rollouts),
    ("advisories", seed_advisories),
    ("disclosures", seed_disclosures),
    ("need-to-know", seed_need_to_know),
    ("bounty", seed_bounty),
    ("bounty-recognition", seed_recognition),
    ("variants", seed_variants),
    ("reviews", seed_reviews),
)


async def seed(database: Database, *, seed_value: int = 2026) -> DemoContext:
    """Run every seeder not yet run; return what they want shown (the new logins)."""
    context = DemoContext(
        now=datetime.now(UTC),
        rng=random.Random(seed_value),  # noqa: S311
        database=database,
    )
    async with database.session() as session:
        done = set(await session.scalars(select(DemoSeed.name)))
    for name, seeder in SEEDERS:
        if name in done:
            continue
        async with database.session() as session:
            await seeder(session, context)
            session.add(DemoSeed(name=name))
            await session.commit()
    return context


def write_credentials(path: Path, credentials: list[tuple[str, str, str]]) -> None:
    """Keep the generated demo logins (mode 0600) so a later start can point at them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{role}\t{email}\t{password}" for role, email, password in credentials]
    with path.open("a") as handle:
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)
