"""A case's fixes and their test evidence."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.cases import access, milestones
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.cases.states import FINISHED, Milestone
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.fleet import service as fleet
from vulnops.remediation import junit
from vulnops.remediation.models import SUITES, Evidence, Fix
from vulnops.remediation.schemas import EvidenceOut, FixOut
from vulnops.settings import Settings

# A version is passed to deployment commands as one argument: it must not look like an option.
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,99}$")


def suite_key(name: str) -> str:
    """``data-integrity`` or ``data_integrity`` -> ``data_integrity``."""
    key = name.strip().lower().replace("-", "_")
    if key not in SUITES:
        raise Invalid(f"suite: {name!r} is not one of compatibility, data-integrity")
    return key


async def create_fix(
    session: AsyncSession,
    *,
    case_id: int,
    service_key: str,
    version: str,
    artifact: str,
    notes: str,
    actor: str,
) -> Fix:
    case = await cases.get_case(session, case_id=case_id)
    service = await fleet.get_service(session, key=service_key.strip())
    version = version.strip()
    if not VERSION.match(version):
        raise Invalid(
            f"version: {version!r} must start with a letter or digit and hold only letters, "
            "digits and . _ + ~ - (at most 100)"
        )
    duplicate = await session.scalar(
        select(Fix.id).where(
            Fix.case_id == case.id, Fix.service_id == service.id, Fix.version == version
        )
    )
    if duplicate is not None:
        raise Conflict(f"this case already has fix {duplicate} for {service.key} {version}")
    fix = Fix(
        case_id=case.id,
        service_id=service.id,
        version=version,
        artifact=artifact.strip(),
        notes=notes,
        created_by=actor,
    )
    session.add(fix)
    await session.flush()
    await audit.record(
        session,
        subject=cases.subject(case.id),
        kind="fix.created",
        actor=actor,
        data={"fix": fix.id, "service": service.key, "version": version, "artifact": artifact},
    )
    return fix


async def get_fix(session: AsyncSession, *, fix_id: int) -> Fix:
    fix = await session.get(Fix, fix_id)
    if fix is None:
        raise NotFound(f"no fix {fix_id}")
    return fix


async def fixes_of_case(session: AsyncSession, *, case_id: int) -> list[Fix]:
    return list(await session.scalars(select(Fix).where(Fix.case_id == case_id).order_by(Fix.id)))


async def fixes_by(session: AsyncSession, *, viewer: Principal, per_page: int = 50) -> Page[Fix]:
    """The fixes the viewer made for cases still open that they may still see, newest first."""
    stmt = (
        select(Fix)
        .join(Case, Case.id == Fix.case_id)
        .where(
            Fix.created_by == viewer.actor,
            Case.state.not_in([state.value for state in FINISHED]),
            access.visible(viewer),
        )
        .order_by(Fix.id.desc())
    )
    return await paginate_scalars(session, stmt, page=1, per_page=per_page)


async def add_evidence(
    session: AsyncSession,
    *,
    fix_id: int,
    suite: str,
    data: bytes,
    file_name: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Evidence:
    """A JUnit report of one suite for the fix; the newest report of a suite is the one that
    counts (and the case's ``fix_ready`` follows)."""
    fix = await get_fix(session, fix_id=fix_id)
    key = suite_key(suite)
    summary = junit.parse(data, source=file_name)
    evidence = Evidence(
        fix_id=fix.id,
        suite=key,
        file_name=file_name[:300],
        sha256=hashlib.sha256(data).hexdigest(),
        tests=summary.tests,
        failures=summary.failures,
        errors=summary.errors,
        skipped=summary.skipped,
        passed=summary.passed,
        failed_cases=[case.__dict__ for case in summary.failed],
        uploaded_by=actor,
    )
    session.add(evidence)
    await session.flush()
    await audit.record(
        session,
        subject=cases.subject(fix.case_id),
        kind="fix.evidence_added",
        actor=actor,
        data={
            "fix": fix.id,
            "suite": key,
            "passed": summary.passed,
            "tests": summary.tests,
            "failures": summary.failures,
            "errors": summary.errors,
            "skipped": summary.skipped,
            "sha256": evidence.sha256,
        },
    )
    await _sync_fix_ready(session, fix.case_id, now=now, actor=actor, settings=settings)
    return evidence


async def latest_evidence(
    session: AsyncSession, *, fix_ids: list[int]
) -> dict[int, dict[str, Evidence]]:
    """The newest report of each suite, for each fix."""
    if not fix_ids:
        return {}
    newest = (
        select(func.max(Evidence.id))
        .where(Evidence.fix_id.in_(fix_ids))
        .group_by(Evidence.fix_id, Evidence.suite)
    )
    found: dict[int, dict[str, Evidence]] = {fix_id: {} for fix_id in fix_ids}
    for evidence in await session.scalars(select(Evidence).where(Evidence.id.in_(newest))):
        found[evidence.fix_id][evidence.suite] = evidence
    return found


@dataclass(frozen=True)
class Readiness:
    ready: bool
    overridden: bool
    missing: list[str]  # what keeps the fix from rolling out


def readiness_of(fix: Fix, latest: dict[str, Evidence]) -> Readiness:
    """Whether the fix may roll out, from the newest report of each suite."""
    missing = []
    for suite in SUITES:
        label = suite.replace("_", "-")
        report = latest.get(suite)
        if report is None:
            missing.append(f"no {label} results")
        elif not report.passed:
            missing.append(
                f"the {label} suite did not pass ({report.failures} failed, "
                f"{report.errors} errors, {report.tests - report.skipped} run)"
            )
    overridden = fix.override_reason is not None
    return Readiness(ready=not missing or overridden, overridden=overridden, missing=missing)


async def readiness(session: AsyncSession, *, fix: Fix) -> Readiness:
    latest = await latest_evidence(session, fix_ids=[fix.id])
    return readiness_of(fix, latest[fix.id])


async def override_evidence(
    session: AsyncSession,
    *,
    fix_id: int,
    reason: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> Fix:
    """Let the fix roll out without passing evidence — an emergency, on record."""
    fix = await get_fix(session, fix_id=fix_id)
    if not reason.strip():
        raise Invalid("reason: say why the fix may roll out without its test evidence")
    fix.override_reason, fix.override_by, fix.override_at = reason.strip(), actor, now
    await audit.record(
        session,
        subject=cases.subject(fix.case_id),
        kind="fix.evidence_overridden",
        actor=actor,
        data={"fix": fix.id, "reason": reason.strip()},
    )
    await session.flush()
    await _sync_fix_ready(session, fix.case_id, now=now, actor=actor, settings=settings)
    return fix


async def _sync_fix_ready(
    session: AsyncSession, case_id: int, *, now: datetime, actor: str, settings: Settings
) -> None:
    """The case has ``fix_ready`` while one of its fixes may roll out (level-triggered: a
    newer failing report of the only ready fix clears it); the case locked first."""
    await milestones.locked_case(session, case_id)
    fixes = await fixes_of_case(session, case_id=case_id)
    latest = await latest_evidence(session, fix_ids=[f.id for f in fixes])
    ready = [fix for fix in fixes if readiness_of(fix, latest[fix.id]).ready]
    if ready:
        await milestones.record(
            session,
            case_id=case_id,
            milestones=[Milestone.FIX_READY],
            at=now,
            actor=actor,
            source=f"fix:{ready[0].id}",
            settings=settings,
        )
    else:
        await milestones.clear(
            session,
            case_id=case_id,
            milestones=[Milestone.FIX_READY],
            at=now,
            actor=actor,
            source="fix",
            reason="no fix of the case has passing test evidence any more",
            settings=settings,
        )


async def fix_views(session: AsyncSession, fixes: list[Fix]) -> list[FixOut]:
    """Fixes with their readiness and newest evidence, in three queries for any number."""
    latest = await latest_evidence(session, fix_ids=[f.id for f in fixes])
    keys = await fleet.service_keys(session, ids=sorted({f.service_id for f in fixes}))
    out = []
    for fix in fixes:
        ready = readiness_of(fix, latest[fix.id])
        out.append(
            FixOut(
                id=fix.id,
                case_id=fix.case_id,
                service=keys.get(fix.service_id, ""),
                version=fix.version,
                artifact=fix.artifact,
                notes=fix.notes,
                created_by=fix.created_by,
                created_at=fix.created_at,
                ready=ready.ready,
                missing=ready.missing,
                override_reason=fix.override_reason,
                override_by=fix.override_by,
                evidence={
                    suite: EvidenceOut.model_validate(report)
                    for suite, report in latest[fix.id].items()
                },
            )
        )
    return out
