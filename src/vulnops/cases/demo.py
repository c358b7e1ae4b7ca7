"""Demo data: one restricted case with a team, to show need to know (sign in as the release
manager, outside its team, and it is nowhere; as the responder, the engineer or the
communications lead, it is there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.cases import service as cases
from vulnops.cases import team
from vulnops.cases.assessment import AssessmentInput
from vulnops.cases.deadlines import sla_policy
from vulnops.cases.severity import DataSensitivity, Impact
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, TechnicalImpact
from vulnops.settings import get_settings

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

TITLE = "Signing keys of the token service readable through a debug endpoint"


async def seed_need_to_know(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    responder = users.principal_of(
        await users.get_user_by_email(session, email="responder@vulnops.example"), via="session"
    )
    engineer = await users.get_user_by_email(session, email="engineer@vulnops.example")
    comms = await users.get_user_by_email(session, email="comms@vulnops.example")
    case = await cases.open_case(
        session,
        title=TITLE,
        summary="Found by the red team. Keep it to the team until the keys are rotated.",
        services=["identity"],
        actor=responder.actor,
        settings=settings,
        owner_id=engineer.id,
        responder_id=responder.user_id,
        restricted=True,
        now=context.now,
    )
    await team.set_team(
        session, case=case, restricted=True, member_ids=[comms.id], principal=responder
    )
    await cases.assess_severity(
        session,
        case_id=case.id,
        given=AssessmentInput(
            cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:N",
            cvss40_vector=None,
            impact=Impact.CROSS_TENANT_ACCESS,
            data_sensitivity=DataSensitivity.CUSTOMER_CONTENT,
            exploitation=Exploitation.NONE,
            automatable=True,
            technical_impact=TechnicalImpact.TOTAL,
            mission_wellbeing=MissionWellbeing.HIGH,
            cwe_id=522,
            publicly_disclosed=False,
            customer_action_required=False,
        ),
        reason="Any tenant's tokens could be forged.",
        actor=responder.actor,
        policy=sla_policy(settings.sla_policy_file),
        settings=settings,
    )
