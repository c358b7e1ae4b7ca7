"""The pages of root causes and variants: a case's Root cause tab (the analysis, structural
improvements, links, hunts and the form that starts one), a hunt's page (progress, locations,
findings and their decisions), the classes and one class."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from vulnops.auth import service as users
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.cases import service as cases
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.intake.api import read_sarif
from vulnops.settings import Settings
from vulnops.ui.forms import form_action
from vulnops.ui.templating import render
from vulnops.variants import classes, hunts, links, plot, rootcause, triage
from vulnops.variants.api import HUNT, READ
from vulnops.variants.schemas import DecisionIn, HuntIn, RootCauseIn

router = APIRouter(include_in_schema=False)
FINDINGS_PAGE = 50
CweId = Annotated[int, Path(ge=1, le=100_000)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


@router.get("/cases/{case_id:int}/root-cause", response_class=HTMLResponse)
async def root_cause_tab(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(READ)
) -> HTMLResponse:
    case = await cases.get_case(session, case_id=case_id)
    now = datetime.now(UTC)
    parents, children = await links.related(session, case_id=case.id, viewer=principal)
    return render(
        request,
        "variants/root_cause.html",
        {
            "case": case,
            "tab": "root-cause",  # the Root cause tab of the case page
            "now": now,
            "root": await rootcause.view(session, case_id=case.id, today=now.date()),
            "parents": parents,
            "children": children,
            "hunts": await hunts.views(
                session, hunts=await hunts.of_case(session, case_id=case.id)
            ),
            "staff": await users.assignable(session),
        },
    )


@router.post("/cases/{case_id:int}/root-cause")
async def save_root_cause(
    request: Request,
    case_id: Id,
    session: SessionDep,
    cwe_id: Annotated[int | None, Form(ge=1, le=100_000)] = None,
    introduced_repository: Annotated[Text, Form(max_length=1000)] = "",
    introduced_ref: Annotated[Text, Form(max_length=200)] = "",
    cause: Annotated[Text, Form(max_length=20_000)] = "",
    found_how: Annotated[Text, Form(max_length=20_000)] = "",
    found_earlier: Annotated[Text, Form(max_length=20_000)] = "",
    detection_ideas: Annotated[Text, Form(max_length=20_000)] = "",
    principal: Principal = require(HUNT),
) -> Response:
    given = RootCauseIn(
        cwe_id=cwe_id,
        introduced_repository=introduced_repository,
        introduced_ref=introduced_ref,
        cause=cause,
        found_how=found_how,
        found_earlier=found_earlier,
        detection_ideas=detection_ideas,
    )

    async def work() -> object:
        return await rootcause.record(
            session, case_id=case_id, given=given, actor=principal.actor, now=datetime.now(UTC)
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Root cause saved.",
        back=f"/cases/{case_id}/root-cause",
    )


@router.post("/cases/{case_id:int}/improvements")
async def add_improvement(
    request: Request,
    case_id: Id,
    session: SessionDep,
    action: Annotated[Text, Form(max_length=5000)],
    owner_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    due: Annotated[date, Form()],
    principal: Principal = require(HUNT),
) -> Response:
    async def work() -> object:
        return await rootcause.add_improvement(
            session,
            case_id=case_id,
            action=action,
            owner_id=owner_id,
            due=due,
            actor=principal.actor,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Structural improvement added.",
        back=f"/cases/{case_id}/root-cause",
    )


@router.post("/improvements/{improvement_id:int}/done")
async def complete_improvement(
    request: Request, improvement_id: Id, session: SessionDep, principal: Principal = require(HUNT)
) -> Response:
    async def work() -> Any:
        return await rootcause.complete_improvement(
            session, improvement_id=improvement_id, actor=principal.actor, now=datetime.now(UTC)
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Marked done.",
        back=lambda found: f"/cases/{found.case_id}/root-cause",
    )


@router.post("/cases/{case_id:int}/links")
async def add_link(
    request: Request,
    case_id: Id,
    session: SessionDep,
    parent: Annotated[Text, Form(max_length=32)],
    relation: Annotated[Literal["variant", "bypass", "regression"], Form()],
    principal: Principal = require(HUNT),
) -> Response:
    async def work() -> object:
        found = await cases.get_case_by_tracking_id(session, tracking_id=parent.strip())
        return await links.link_as(
            session, child_id=case_id, parent_id=found.id, relation=relation, principal=principal
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: f"Linked as a {relation} of {parent}.",
        back=f"/cases/{case_id}/root-cause",
    )


@router.post("/cases/{case_id:int}/hunts")
async def start_hunt(
    request: Request,
    case_id: Id,
    session: SessionDep,
    strategy: Annotated[Text, Form(max_length=20)] = "",
    rule: Annotated[Text, Form(max_length=100_000)] = "",
    services: Annotated[Text, Form(max_length=5000)] = "",
    purl: Annotated[Text, Form(max_length=2000)] = "",
    version_range: Annotated[Text, Form(alias="range", max_length=2000)] = "",
    tags_all: Annotated[Text, Form(max_length=5000)] = "",
    tags_any: Annotated[Text, Form(max_length=5000)] = "",
    tags_none: Annotated[Text, Form(max_length=5000)] = "",
    cwe_id: Annotated[int | None, Form(ge=1, le=100_000)] = None,
    rule_file: Annotated[UploadFile | None, File()] = None,
    sarif: Annotated[UploadFile | None, File()] = None,
    principal: Principal = require(HUNT),
) -> Response:
    settings = _settings(request)
    log = None
    if strategy == "sarif" and sarif is not None and sarif.filename:
        log = await read_sarif(sarif, limit=settings.max_sarif_bytes)
    if strategy == "code" and rule_file is not None and rule_file.filename and not rule.strip():
        rule = (await rule_file.read(100_001)).decode("utf-8", errors="replace")
    given = HuntIn.model_validate(
        {
            "strategy": strategy or None,
            "rule": rule,
            "services": _lines(services),
            "purl": purl,
            "range": version_range,
            "tags_all": _lines(tags_all),
            "tags_any": _lines(tags_any),
            "tags_none": _lines(tags_none),
            "cwe_id": cwe_id,
        }
    )

    async def work() -> Any:
        return await hunts.start(
            session,
            case_id=case_id,
            given=given,
            actor=principal.actor,
            settings=settings,
            sarif_log=log,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda hunt: f"Hunt {hunt.id} ({hunt.strategy}) started.",
        back=lambda hunt: f"/hunts/{hunt.id}",
    )


@router.get("/hunts/{hunt_id:int}", response_class=HTMLResponse)
async def hunt_page(
    request: Request,
    hunt_id: Id,
    session: SessionDep,
    state: Annotated[Text, Query(max_length=20)] = "",
    page: PageNumber = 1,
    principal: Principal = require(READ),
) -> HTMLResponse:
    hunt = await hunts.get(session, hunt_id=hunt_id)
    case = await cases.get_case(session, case_id=hunt.case_id)
    found = await hunts.findings_page(
        session,
        hunt=hunt,
        viewer=principal,
        state=state if state in ("candidate", "variant", "duplicate", "not_a_problem") else None,
        page=page,
        per_page=FINDINGS_PAGE,
    )
    return render(
        request,
        "variants/hunt.html",
        {
            "case": case,
            "hunt": await hunts.view(session, hunt=hunt),
            "findings": found,
            "state": state,
            "page_url": lambda number: (
                f"/hunts/{hunt.id}?" + urlencode({"state": state, "page": number})
            ),
            "tracking": await cases.tracking_ids(
                session,
                case_ids={
                    i
                    for f in found.items
                    for i in (f.decided_case_id, f.about_case_id)
                    if i is not None
                },
            ),
        },
    )


@router.post("/findings/{finding_id:int}/decision")
async def decide_finding(
    request: Request,
    finding_id: Id,
    session: SessionDep,
    decision: Annotated[
        Literal["variant", "bypass", "regression", "duplicate", "not_a_problem"], Form()
    ],
    reason: Annotated[Text, Form(max_length=5000)] = "",
    duplicate_of: Annotated[Text, Form(max_length=32)] = "",
    one_fix_fixes_both: Annotated[Literal["", "yes", "no"], Form()] = "",
    principal: Principal = require(HUNT),
) -> Response:
    async def work() -> Any:
        duplicate = None
        if duplicate_of.strip():
            duplicate = (
                await cases.get_case_by_tracking_id(session, tracking_id=duplicate_of.strip())
            ).id
        given = DecisionIn(
            decision=decision,
            reason=reason,
            duplicate_of=duplicate,
            one_fix_fixes_both={"yes": True, "no": False}.get(one_fix_fixes_both),
        )
        return await triage.decide(
            session,
            finding_id=finding_id,
            given=given,
            principal=principal,
            settings=_settings(request),
            now=datetime.now(UTC),
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda f: f"Finding {f.id}: {f.state.replace('_', ' ')}.",
        back=lambda f: f"/hunts/{f.hunt_id}",
    )


@router.get("/classes", response_class=HTMLResponse)
async def classes_page(
    request: Request,
    session: SessionDep,
    order: Annotated[Literal["cases", "time", "recurrence"], Query()] = "cases",
    principal: Principal = require(READ),
) -> HTMLResponse:
    rows = await classes.top(session, viewer=principal, order=order, limit=25)
    return render(
        request,
        "variants/classes.html",
        {"rows": rows, "order": order, "svg": plot.top_weaknesses(rows, order=order)},
    )


@router.get("/classes/{cwe_id:int}", response_class=HTMLResponse)
async def class_page(
    request: Request, cwe_id: CweId, session: SessionDep, principal: Principal = require(READ)
) -> HTMLResponse:
    found = await classes.show(
        session, cwe_id=cwe_id, viewer=principal, today=datetime.now(UTC).date()
    )
    return render(request, "variants/class.html", {"found": found})


@router.post("/classes/{cwe_id:int}/close")
async def close_class(
    request: Request,
    cwe_id: CweId,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=5000)] = "",
    principal: Principal = require(HUNT),
) -> Response:
    async def work() -> Any:
        return await classes.close(
            session,
            cwe_id=cwe_id,
            reason=reason,
            actor=principal.actor,
            viewer=principal,
            today=datetime.now(UTC).date(),
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda c: f"CWE-{cwe_id} closed; {c.guards} guard(s) watch for its return.",
        back=f"/classes/{cwe_id}",
    )
