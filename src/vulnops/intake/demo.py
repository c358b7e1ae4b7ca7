"""Demo reports and cases: a month of a bug bounty's intake, triaged into cases at every stage."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.auth.principal import Principal
from vulnops.cases import deadlines
from vulnops.cases import service as cases
from vulnops.cases.assessment import AssessmentInput
from vulnops.cases.severity import DataSensitivity, Impact
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, TechnicalImpact
from vulnops.cases.states import CaseState
from vulnops.intake import messages, scans, service
from vulnops.intake.models import Report
from vulnops.intake.sarif import findings
from vulnops.intake.schemas import ReportIn
from vulnops.intake.states import CloseReason, ReportState
from vulnops.settings import get_settings

if TYPE_CHECKING:
    from vulnops.demo import DemoContext


DATA = Path(__file__).with_name("demo.yaml")
SCAN = Path(__file__).with_name("demo_scan.sarif")


async def _principal(session: AsyncSession, email: str) -> Principal:
    return users.principal_of(await users.get_user_by_email(session, email=email), via="session")


async def seed_reports(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    researcher = await _principal(session, "researcher@vulnops.example")
    responder = await _principal(session, "responder@vulnops.example")
    engineer = await _principal(session, "engineer@vulnops.example")
    data = yaml.safe_load(DATA.read_text())
    reports: dict[str, Report] = {}
    for sample in data["reports"]:
        report = await service.submit(
            session,
            principal=researcher,
            settings=settings,
            data=ReportIn(
                title=sample["title"],
                description=sample["description"],
                service=sample["service"],
                endpoint=sample["endpoint"] or None,
                reproduction="See the description; a request log is attached on request.",
                impact="See the description.",
            ),
        )
        await session.execute(
            update(Report)
            .where(Report.id == report.id)
            .values(received_at=context.now - timedelta(days=sample["days_ago"]))
        )
        await session.refresh(report)
        reports[sample["key"]] = report

    exercise = await service.submit(
        session,
        principal=engineer,
        settings=settings,
        data=ReportIn(
            title="Lateral movement from a build agent to the deploy signer",
            description="During the exercise the red team reused a build agent's token to "
            "request signatures for arbitrary artifacts.",
            service="build",
            exercise="Red team: Operation Lantern (Q4)",
        ),
    )
    reports["exercise"] = exercise
    await scans.import_log(
        session,
        principal=engineer,
        log=findings(json.loads(SCAN.read_text())),
        service="compute",
        settings=settings,
    )

    for key, reason, text in (
        ("spam", CloseReason.SPAM, "This is not a security report."),
        (
            "scope",
            CloseReason.OUT_OF_SCOPE,
            "The marketing site is run by a third party and is out of scope for this program.",
        ),
        ("info", CloseReason.WONT_FIX, "Version banners are accepted risk; the proxy is patched."),
    ):
        await service.transition(
            session,
            principal=responder,
            report_id=reports[key].id,
            target=ReportState.CLOSED,
            close_reason=reason,
            resolution=text,
            settings=settings,
        )
    await service.transition(
        session,
        principal=responder,
        report_id=reports["dns"].id,
        target=ReportState.NEEDS_INFO,
        close_reason=None,
        resolution="Which bucket name does the CNAME point at, and did you claim it?",
        settings=settings,
    )
    await messages.post(
        session,
        principal=responder,
        report_id=reports["xss"].id,
        settings=settings,
        body="Thanks! Reproduced in the agent console; we are on it.",
    )
    await messages.post(
        session,
        principal=researcher,
        report_id=reports["xss"].id,
        settings=settings,
        body="Great. Happy to retest the fix when it is out.",
    )

    policy = deadlines.sla_policy(settings.sla_policy_file)
    for number, plan in enumerate(data["cases"]):
        case, _ = await service.open_case_from_reports(
            session,
            principal=responder,
            title=plan["title"],
            summary="",
            services=[],
            report_ids=[reports[key].id for key in plan["reports"]],
            owner_id=engineer.user_id,
            responder_id=responder.user_id,
            restricted=False,  # the tour shows these to every role; one restricted case follows
            settings=settings,
            now=context.now,
        )
        await cases.assess_severity(
            session,
            case_id=case.id,
            given=AssessmentInput(
                cvss31_vector=plan["cvss31"],
                cvss40_vector=None,
                impact=Impact(plan["impact"]),
                data_sensitivity=DataSensitivity(plan["data_sensitivity"]),
                exploitation=Exploitation(plan["exploitation"]),
                automatable=plan["automatable"],
                technical_impact=TechnicalImpact(plan["technical_impact"]),
                mission_wellbeing=MissionWellbeing(plan["mission_wellbeing"]),
                cwe_id=plan["cwe"],
                publicly_disclosed=False,
                customer_action_required=plan["customer_action"],
            ),
            reason="Assessed at triage.",
            actor=responder.actor,
            policy=policy,
            settings=settings,
        )
        # Cases far along were handled in good time; the newest ones are still running.
        step = timedelta(hours=1 + number)
        for index, decision in enumerate(plan["path"]):
            state, _, reason = decision.partition(": ")
            await cases.transition(
                session,
                case_id=case.id,
                target=CaseState(state),
                reason=reason or None,
                actor=responder.actor,
                now=case.started_at + step * (index + 1),
                settings=settings,
            )
    await cases.open_case(
        session,
        title="Webhook signature compared in non-constant time",
        summary="Reported today; not acknowledged yet.",
        services=["events"],
        actor=responder.actor,
        settings=settings,
        started_at=reports["webhook"].received_at,
        now=context.now,
    )
