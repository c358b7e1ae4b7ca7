"""Shared pieces of the review tests: a case scripted in virtual time (opened at a chosen
instant, rated, its milestones recorded at chosen offsets) and a tiny fleet whose exposure a
test can compute by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from vulnops.cases import deadlines, milestones
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone, Move, Record
from vulnops.db.database import Database
from vulnops.fleet.models import DeploymentUnit, Region, Resource, Service
from vulnops.notify import portal
from vulnops.notify.models import (
    Acknowledgment,
    Advisory,
    AdvisoryMessage,
    AdvisoryRecipient,
    AdvisoryVersion,
)
from vulnops.remediation import service as remediation
from vulnops.rollout.models import Rollout, RolloutUnit
from vulnops.settings import Settings
from vulnops.tenants.models import Tenant

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Step = tuple[Milestone, float]  # a milestone and its offset from the report, in hours


@dataclass(frozen=True)
class Scripted:
    id: int
    tracking_id: str


Script = Callable[..., Awaitable[Scripted]]


async def record_at(
    db: Database, settings: Settings, case_id: int, milestone: Milestone, at: datetime
) -> None:
    async with db.session() as session:
        await milestones.apply(
            session,
            case_id=case_id,
            move=Move(record=(Record(milestone),)),
            at=at,
            actor="responder@example.com",
            settings=settings,
            reason="scripted",
        )
        await session.commit()


@pytest.fixture
def script(db: Database, settings: Settings) -> Script:
    async def make(
        steps: Sequence[Step],
        *,
        start: datetime = T0,
        rating: str | None = "important",
        services: Sequence[str] = ("storage",),
        title: str = "Token replay in the storage API",
        restricted: bool | None = None,
        owner_id: int | None = None,
        responder_id: int | None = None,
    ) -> Scripted:
        async with db.session() as session:
            case = await cases.open_case(
                session,
                title=title,
                summary="",
                services=list(services),
                actor="test",
                settings=settings,
                started_at=start,
                restricted=restricted,
                owner_id=owner_id,
                responder_id=responder_id,
                now=start,
            )
            found = await session.get(Case, case.id)
            assert found is not None
            found.rating = rating
            deadlines.apply(found, deadlines.sla_policy(settings.sla_policy_file))
            await session.commit()
            scripted = Scripted(case.id, case.tracking_id)
        for milestone, offset in steps:
            await record_at(db, settings, scripted.id, milestone, start + timedelta(hours=offset))
        return scripted

    return make


@dataclass(frozen=True)
class TinyFleet:
    """Service ``api`` on three units; tenant Acme on u1 (two resources) and u2, Globex on u3,
    Initech on u1."""

    units: dict[str, int]
    tenants: dict[str, int]


@pytest.fixture
async def tiny_fleet(db: Database) -> TinyFleet:

    async with db.session() as session:
        service = Service(key="api", name="API")
        west, east = Region(key="eu-west", name="EU West"), Region(key="eu-east", name="EU East")
        session.add_all([service, west, east])
        await session.flush()
        units = {
            name: DeploymentUnit(
                service_id=service.id,
                region_id=region.id,
                scale_unit=name,
                current_version="1.0",
                traffic_share=share,
            )
            for name, region, share in (("u1", west, 0.5), ("u2", west, 0.5), ("u3", east, 1.0))
        }
        tenants = {
            name: Tenant(key=name.lower(), name=name) for name in ("Acme", "Globex", "Initech")
        }
        session.add_all([*units.values(), *tenants.values()])
        await session.flush()
        placed = [
            ("Acme", "u1"),
            ("Acme", "u1"),
            ("Acme", "u2"),
            ("Globex", "u3"),
            ("Initech", "u1"),
        ]
        session.add_all(
            Resource(tenant_id=tenants[t].id, unit_id=units[u].id, external_id=f"{t}-{i}")
            for i, (t, u) in enumerate(placed)
        )
        await session.commit()
        return TinyFleet({k: v.id for k, v in units.items()}, {k: v.id for k, v in tenants.items()})


async def deploy(
    db: Database, *, case_id: int, unit_times: dict[int, datetime | None], fix_version: str = "1.1"
) -> int:
    """A rollout of the case's fix that reached these units at these times (None: not yet)."""

    async with db.session() as session:
        fix = await remediation.create_fix(
            session,
            case_id=case_id,
            service_key="api",
            version=fix_version,
            artifact="",
            notes="",
            actor="test",
        )
        rollout = Rollout(
            fix_id=fix.id,
            case_id=case_id,
            service_id=fix.service_id,
            target_version=fix_version,
            policy_name="standard",
            policy={},
            backend="simulated",
            health_source="simulated",
            status="running",
            started_by="test",
        )
        session.add(rollout)
        await session.flush()
        session.add_all(
            RolloutUnit(
                rollout_id=rollout.id,
                unit_id=unit_id,
                stage=0,
                from_version="1.0",
                status="deployed" if at else "pending",
                deployed_at=at,
            )
            for unit_id, at in unit_times.items()
        )
        await session.commit()
        return rollout.id


async def advisory_with_feedback(
    db: Database,
    *,
    case_id: int,
    tenants: dict[str, int],
    sent_at: datetime,
    answers: Sequence[tuple[str, int, str, timedelta | None]],
) -> int:
    """A sent advisory of the case to these tenants; each answer is (tenant, rating, comment,
    acknowledged after — None: not acknowledged), given through the portal's own functions."""

    async with db.session() as session:
        advisory = Advisory(case_id=case_id, created_by="test")
        session.add(advisory)
        await session.flush()
        version = AdvisoryVersion(
            advisory_id=advisory.id,
            number=1,
            title="Token replay",
            summary="What happened",
            body="{{ summary }}",
            action_required=False,
            exposed_since=sent_at - timedelta(hours=12),
            status="sent",
            created_by="test",
            sent_by="test",
            sent_at=sent_at,
        )
        session.add(version)
        session.add_all(
            AdvisoryRecipient(advisory_id=advisory.id, tenant_id=tid, resources=1)
            for tid in tenants.values()
        )
        await session.flush()
        for name, rating, comment, after in answers:
            await portal.give_feedback(
                session,
                advisory_id=advisory.id,
                tenant_id=tenants[name],
                rating=rating,
                comment=comment,
                actor=f"admin@{name.lower()}.example",
            )
            if after is not None:
                session.add(
                    Acknowledgment(
                        version_id=version.id,
                        tenant_id=tenants[name],
                        acknowledged_by=f"admin@{name.lower()}.example",
                        acknowledged_at=sent_at + after,
                    )
                )
        await session.commit()
        return advisory.id


async def conversation_at(
    db: Database,
    *,
    case_id: int,
    tenant_id: int,
    author_id: int,
    messages: Sequence[tuple[bool, str, datetime]],
) -> None:
    """Messages of the tenant's conversation about the case's advisory, at chosen times: each
    is (from the team, body, when)."""
    async with db.session() as session:
        advisory = await session.scalar(select(Advisory.id).where(Advisory.case_id == case_id))
        assert advisory is not None
        session.add_all(
            AdvisoryMessage(
                advisory_id=advisory,
                tenant_id=tenant_id,
                from_staff=from_staff,
                author_id=author_id,
                body=body,
                created_at=at,
            )
            for from_staff, body, at in messages
        )
        await session.commit()
