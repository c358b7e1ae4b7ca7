"""The tabs of a case page besides its overview: severity (with the CVSS calculator), blast
radius, fixes and rollouts, disclosure, timeline. Each reads only what it shows (the advisory
tab is the notification domain's page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from vulnops.audit import service as audit
from vulnops.audit.narrate import kinds_shown, narrate
from vulnops.audit.telling import GROUP_LABELS, Group
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.casefile.sections import may_read
from vulnops.cases import service as cases
from vulnops.cases.api import READ
from vulnops.cases.models import Case
from vulnops.cases.severity import DataSensitivity, Impact, cvss_base_metrics
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, TechnicalImpact
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.disclosure import disclosing as disclosure
from vulnops.fleet import blast
from vulnops.intake import service as intake
from vulnops.oncall import paging
from vulnops.remediation import service as remediation
from vulnops.rollout import service as rollouts
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(include_in_schema=False)
TIMELINE_PAGE = 100


def header(case: Case, tab: str, now: datetime) -> dict[str, Any]:
    """What the case's header and tabs need (``cases/case_base.html``)."""
    return {"case": case, "tab": tab, "now": now}


@router.get(
    "/cases/{case_id:int}/severity", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def severity_tab(request: Request, case_id: Id, session: SessionDep) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    return render(
        request,
        "cases/severity.html",
        {
            **header(case, "severity", datetime.now(UTC)),
            "cvss": {version: cvss_base_metrics(version) for version in ("3.1", "4.0")},
            "impacts": list(Impact),
            "sensitivities": list(DataSensitivity),
            "exploitations": list(Exploitation),
            "technical_impacts": list(TechnicalImpact),
            "missions": list(MissionWellbeing),
        },
    )


@router.get(
    "/cases/{case_id:int}/blast-radius", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def blast_tab(request: Request, case_id: Id, session: SessionDep) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    return render(
        request,
        "cases/blast.html",
        {
            **header(case, "blast", datetime.now(UTC)),
            "blast": await blast.find(session, case_id=case.id),
        },
    )


@router.get("/cases/{case_id:int}/fixes", response_class=HTMLResponse)
async def fixes_tab(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "cases/fixes.html",
        {
            **header(case, "fixes", datetime.now(UTC)),
            "fixes": await remediation.fix_views(
                session, await remediation.fixes_of_case(session, case_id=case.id)
            ),
            "rollouts": (
                await rollouts.list_rollouts(
                    session, viewer=principal, case_id=case.id, per_page=50
                )
            ).items
            if may_read(principal, "rollouts")
            else [],
            "policies": list(rollouts.policies(settings).values()),
        },
    )


@router.get(
    "/cases/{case_id:int}/disclosure", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def disclosure_tab(request: Request, case_id: Id, session: SessionDep) -> HTMLResponse:
    now = datetime.now(UTC)
    case = await cases.get_case(session, case_id=case_id)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "cases/disclosure.html",
        {
            **header(case, "disclosure", now),
            "disclosure": await disclosure.state(
                session, case_id=case.id, settings=settings, now=now
            ),
        },
    )


@router.get(
    "/cases/{case_id:int}/timeline", response_class=HTMLResponse, dependencies=[require(READ)]
)
async def timeline_tab(
    request: Request,
    case_id: Id,
    session: SessionDep,
    show: Annotated[Text, Query(max_length=20)] = "",
    every: bool = False,
    page: Annotated[PageNumber, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The case's story in sentences, oldest first, grouped by day; ``show`` one group
    (``rollouts``…), ``every`` event rather than the key ones."""
    case = await cases.get_case(session, case_id=case_id)
    group = Group(show) if show in set(Group) else None
    reports = await intake.reports_of_case(session, case_id=case.id)
    names = {intake.subject(report): report.tracking_id for report in reports}
    subjects = [
        cases.subject(case),
        *names,
        *await paging.subjects_of_case(session, case_id=case.id),
    ]
    found = await audit.list_events(
        session,
        subjects=subjects,
        kinds=kinds_shown(group, details=every),
        page=page,
        per_page=TIMELINE_PAGE,
        oldest_first=True,
    )
    filters = {"show": group.value if group else "", "every": "1" if every else ""}

    def url(**changes: object) -> str:
        return f"/cases/{case.id}/timeline?" + urlencode({**filters, **changes})

    return render(
        request,
        "cases/timeline.html",
        {
            **header(case, "timeline", datetime.now(UTC)),
            "page": found,
            "lines": narrate(found.items, names=names),
            "groups": GROUP_LABELS,
            "group": group,
            "every": every,
            "url": url,
            "page_url": lambda number: url(page=number),
        },
    )
