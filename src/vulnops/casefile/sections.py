"""The sections of a case page, each read only when its domain lets the caller read it.

A case page gathers what several domains know about a case. Each section is asked of its own
domain under the same rule as that domain's API route for it (``SECTION_RULES``, taken from the
routers themselves), so no page shows what its API refuses: a release manager, whom the advisory
API answers 403, gets no advisory section at all rather than a template that hides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import api as approvals_api
from vulnops.approvals import service as approvals
from vulnops.approvals.models import Approval
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Rule
from vulnops.disclosure import api as disclosure_api
from vulnops.disclosure import disclosing as disclosure
from vulnops.disclosure.schemas import DisclosureOut
from vulnops.fleet import api as fleet_api
from vulnops.fleet import blast
from vulnops.fleet.models import BlastRadius
from vulnops.intake import api as intake_api
from vulnops.intake import service as intake
from vulnops.intake.models import Report
from vulnops.notify import advisory_view
from vulnops.notify import api as notify_api
from vulnops.remediation import api as remediation_api
from vulnops.remediation import service as remediation
from vulnops.remediation.schemas import FixOut
from vulnops.rollout import api as rollout_api
from vulnops.rollout import service as rollouts
from vulnops.settings import Settings

# Each section, the rule of the API route that answers the same question, and that route.
SECTION_RULES: dict[str, Rule] = {
    "reports": intake_api.CASE_REPORTS,
    "blast": fleet_api.CASE_BLAST,
    "fixes": remediation_api.READ,
    "rollouts": rollout_api.READ,
    "advisory": notify_api.READ,
    "disclosure": disclosure_api.READ,
    "approvals": approvals_api.READ,
}
SECTION_APIS: dict[str, str] = {
    "reports": "/api/cases/{case_id}/reports",
    "blast": "/api/cases/{case_id}/blast-radius",
    "fixes": "/api/cases/{case_id}/fixes",
    "rollouts": "/api/rollouts?case_id={case_id}",
    "advisory": "/api/cases/{case_id}/advisory",
    "disclosure": "/api/cases/{case_id}/disclosure",
    "approvals": "/api/approvals?case_id={case_id}",
}


@dataclass(frozen=True)
class ReportsSection:
    reports: list[Report]
    original: int | None  # the report whose reporter keeps priority


@dataclass(frozen=True)
class BlastSection:
    radius: BlastRadius | None  # None: not computed yet


@dataclass(frozen=True)
class FixesSection:
    fixes: list[FixOut]


@dataclass(frozen=True)
class RolloutsSection:
    newest: Sequence[dict[str, Any]]  # the rollout list's rows, newest first


@dataclass(frozen=True)
class AdvisorySection:
    overview: dict[str, Any] | None  # None: no advisory yet


@dataclass(frozen=True)
class DisclosureSection:
    state: DisclosureOut


@dataclass(frozen=True)
class ApprovalsSection:
    pending: list[Approval]


@dataclass(frozen=True)
class CaseSections:
    """What the caller may read of a case; None for a section they may not."""

    reports: ReportsSection | None
    blast: BlastSection | None
    fixes: FixesSection | None
    rollouts: RolloutsSection | None
    advisory: AdvisorySection | None
    disclosure: DisclosureSection | None
    approvals: ApprovalsSection | None

    @property
    def shown(self) -> list[str]:
        return [name for name in SECTION_RULES if getattr(self, name) is not None]


def may_read(principal: Principal, section: str) -> bool:
    return SECTION_RULES[section].allows(principal.role)


async def readable_sections(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: int,
    settings: Settings,
    now: datetime,
    rollouts_shown: int = 5,
) -> CaseSections:
    """The sections of case ``case_id`` the caller may read, each from its own domain."""

    def may(section: str) -> bool:
        return may_read(principal, section)

    reports = (
        ReportsSection(
            reports=await intake.reports_of_case(session, case_id=case_id),
            original=await intake.original_report_id(session, case_id=case_id),
        )
        if may("reports")
        else None
    )
    fixes = (
        FixesSection(
            await remediation.fix_views(
                session, await remediation.fixes_of_case(session, case_id=case_id)
            )
        )
        if may("fixes")
        else None
    )
    newest = (
        (
            await rollouts.list_rollouts(
                session, viewer=principal, case_id=case_id, per_page=rollouts_shown
            )
        ).items
        if may("rollouts")
        else None
    )
    disclosed = (
        await disclosure.state(session, case_id=case_id, settings=settings, now=now)
        if may("disclosure")
        else None
    )
    pending = (
        (await approvals.list_approvals(session, viewer=principal, case_id=case_id)).items
        if may("approvals")
        else None
    )
    return CaseSections(
        reports=reports,
        blast=BlastSection(await blast.find(session, case_id=case_id)) if may("blast") else None,
        fixes=fixes,
        rollouts=RolloutsSection(newest) if newest is not None else None,
        advisory=AdvisorySection(await advisory_view.overview(session, case_id=case_id))
        if may("advisory")
        else None,
        disclosure=DisclosureSection(disclosed) if disclosed is not None else None,
        approvals=ApprovalsSection(list(pending)) if pending is not None else None,
    )
