"""The demo's rollouts: the storage fix for the SSRF case rolls out across the demo fleet in a
few minutes, and an identity release that raises errors fivefold is halted at canary and rolled
back by itself — both on the simulated fleet, watched live at /rollouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.remediation import service as remediation
from vulnops.rollout import service as rollouts
from vulnops.settings import Settings, get_settings
from vulnops.sim import service as sim
from vulnops.sim.model import Fault

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

RELEASE_MANAGER = "release@vulnops.example"
ENGINEER = "engineer@vulnops.example"
POLICY = "demo"
PASSED = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="%(suite)s" tests="4" failures="0" errors="0" skipped="1">
  <testcase classname="%(suite)s.api" name="test_old_clients_still_work" time="1.2"/>
  <testcase classname="%(suite)s.api" name="test_image_import_contract" time="0.8"/>
  <testcase classname="%(suite)s.data" name="test_migrations_roundtrip" time="4.1"/>
  <testcase classname="%(suite)s.data" name="test_legacy_region" time="0">
    <skipped message="no legacy region here"/>
  </testcase>
</testsuite>"""


async def _case(
    session: AsyncSession, context: DemoContext, *, search: str, settings: Settings
) -> int:
    """The case, triaged (a triage that was not decided yet is decided now)."""
    found = await cases.list_cases(session, viewer=None, now=context.now, search=search)
    case = found.items[0]
    if case.triaged_at is None:
        await cases.transition(
            session,
            case_id=case.id,
            target=CaseState.REMEDIATING,
            reason=None,
            actor=ENGINEER,
            now=context.now,
            settings=settings,
        )
    return case.id


async def _ready_fix(
    session: AsyncSession,
    context: DemoContext,
    *,
    case_id: int,
    service: str,
    version: str,
    notes: str,
    settings: Settings,
) -> int:
    fix = await remediation.create_fix(
        session,
        case_id=case_id,
        service_key=service,
        version=version,
        artifact=f"registry.vulnops.example/{service}:{version}",
        notes=notes,
        actor=ENGINEER,
    )
    for suite in ("compatibility", "data-integrity"):
        await remediation.add_evidence(
            session,
            fix_id=fix.id,
            suite=suite,
            data=PASSED % {b"suite": suite.replace("-", "_").encode()},
            file_name=f"{suite}-junit.xml",
            actor=ENGINEER,
            now=context.now,
            settings=settings,
        )
    return fix.id


async def seed_rollouts(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    good = await _ready_fix(
        session,
        context,
        case_id=await _case(session, context, search="SSRF image importer", settings=settings),
        settings=settings,
        service="storage",
        version="2026.12.1",
        notes="Image imports fetch only from an allow-list; link-local addresses are refused.",
    )
    bad = await _ready_fix(
        session,
        context,
        case_id=await _case(session, context, search="JNDI lookup log4j", settings=settings),
        settings=settings,
        service="identity",
        version="2026.12.2",
        notes="log4j-core 2.17.1. (In the demo this release misbehaves: five times the errors.)",
    )
    await sim.set_fault(
        session, service_key="identity", version="2026.12.2", fault=Fault(error_multiplier=5)
    )
    for fix_id in (good, bad):
        await rollouts.start(
            session,
            viewer=None,
            fix_id=fix_id,
            policy_name=POLICY,
            actor=RELEASE_MANAGER,
            settings=settings,
            now=context.now,
        )
