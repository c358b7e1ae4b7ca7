"""The disclosure forms of the case page: the public text (draft, approve, reject), no CVE,
reserve and publish the CVE, ask for the disclosure and decide on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Role
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.disclosure import disclosing, public_text, publishing
from vulnops.disclosure.api import MANAGE, WRITE_TEXT
from vulnops.disclosure.schemas import PublicTextIn
from vulnops.errors import Invalid
from vulnops.settings import Settings
from vulnops.ui.forms import form_action

router = APIRouter(include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _when(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"public_from: {value!r} is not a date and time") from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC)


@router.post("/cases/{case_id:int}/public-text")
async def save_public_text(
    request: Request,
    case_id: Id,
    session: SessionDep,
    title: Annotated[Text, Form(max_length=300)] = "",
    description: Annotated[Text, Form(max_length=50_000)] = "",
    impact: Annotated[Text, Form(max_length=20_000)] = "",
    customer_action: Annotated[Text, Form(max_length=20_000)] = "",
    acknowledgments: Annotated[Text, Form(max_length=5_000)] = "",
    principal: Principal = require(WRITE_TEXT),
) -> Response:
    async def work() -> int:
        try:
            text = PublicTextIn(
                title=title,
                description=description,
                impact=impact,
                customer_action=customer_action,
                acknowledgments=acknowledgments,
            )
        except ValidationError as error:
            first = error.errors()[0]
            raise Invalid(f"{first['loc'][0]}: {first['msg']}") from None
        draft = await public_text.save_draft(
            session, case_id=case_id, text=text, actor=principal.actor
        )
        return draft.number

    return await form_action(
        request,
        session,
        work,
        done=lambda number: f"Public text version {number} saved; it waits for approval.",
        back=f"/cases/{case_id}/disclosure#public-text",
    )


async def _decision(
    request: Request,
    session: SessionDep,
    case_id: int,
    actor: str,
    *,
    approve: bool,
    comment: str,
    decide: Callable[..., Awaitable[Any]],
    what: str,
    anchor: str,
) -> Response:
    """A second person's decision on the case's public text or disclosure."""

    async def work() -> None:
        await decide(
            session,
            case_id=case_id,
            actor=actor,
            approve=approve,
            comment=comment,
            settings=_settings(request),
            now=datetime.now(UTC),
        )

    verdict = "approved" if approve else "sent back"
    return await form_action(
        request,
        session,
        work,
        done=lambda _: f"{what} {verdict}.",
        back=f"/cases/{case_id}#{anchor}",
    )


@router.post("/cases/{case_id:int}/public-text/approve")
async def approve_public_text(
    request: Request,
    case_id: Id,
    session: SessionDep,
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    return await _decision(
        request,
        session,
        case_id,
        principal.actor,
        approve=True,
        comment=comment,
        decide=public_text.decide,
        what="Public text",
        anchor="public-text",
    )


@router.post("/cases/{case_id:int}/public-text/reject")
async def reject_public_text(
    request: Request,
    case_id: Id,
    session: SessionDep,
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    return await _decision(
        request,
        session,
        case_id,
        principal.actor,
        approve=False,
        comment=comment,
        decide=public_text.decide,
        what="Public text",
        anchor="public-text",
    )


@router.post("/cases/{case_id:int}/disclosure/no-cve")
async def mark_no_cve(
    request: Request,
    case_id: Id,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> None:
        await publishing.mark_no_cve(session, case_id=case_id, reason=reason, actor=principal.actor)

    message = "Marked as no CVE." if reason.strip() else "The policy decides."
    return await form_action(
        request, session, work, done=lambda _: message, back=f"/cases/{case_id}/disclosure"
    )


@router.post("/cases/{case_id:int}/disclosure/reserve-cve")
async def reserve_cve(
    request: Request, case_id: Id, session: SessionDep, principal: Principal = require(MANAGE)
) -> Response:
    async def work() -> dict[str, Any]:
        return await publishing.reserve_cve(
            session,
            case_id=case_id,
            actor=principal.actor,
            settings=_settings(request),
            now=datetime.now(UTC),
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda done: f"{done['cve_id']} reserved.",
        back=f"/cases/{case_id}/disclosure",
    )


@router.post("/cases/{case_id:int}/disclosure/publish-cve")
async def publish_cve(
    request: Request,
    case_id: Id,
    session: SessionDep,
    when_public: Annotated[bool, Form()] = False,
    override_reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> dict[str, Any]:
        return await publishing.publish_cve(
            session,
            case_id=case_id,
            actor=principal.actor,
            settings=_settings(request),
            now=datetime.now(UTC),
            is_admin=principal.role is Role.ADMIN,
            when_public=when_public,
            override_reason=override_reason or None,
        )

    def done(result: dict[str, Any]) -> str:
        if result.get("scheduled_for"):
            return f"{result['cve_id']} will be published when the embargo ends."
        return f"{result['cve_id']} published."

    return await form_action(request, session, work, done=done, back=f"/cases/{case_id}/disclosure")


@router.post("/cases/{case_id:int}/disclosure/disclose")
async def request_disclosure(
    request: Request,
    case_id: Id,
    session: SessionDep,
    public_from: Annotated[Text, Form(max_length=40)] = "",
    cve_choice: Annotated[Literal["", "reserve", "without"], Form()] = "",
    without_cve_reason: Annotated[Text, Form(max_length=2000)] = "",
    override_reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> None:
        await disclosing.request_disclosure(
            session,
            case_id=case_id,
            actor=principal.actor,
            is_admin=principal.role is Role.ADMIN,
            settings=_settings(request),
            now=datetime.now(UTC),
            public_from=_when(public_from),
            cve_choice=cve_choice or None,
            without_cve_reason=without_cve_reason or None,
            override_reason=override_reason or None,
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "Disclosure asked for: it waits for a second person's approval.",
        back=f"/cases/{case_id}/disclosure",
    )


@router.post("/cases/{case_id:int}/disclosure/end-embargo")
async def end_embargo(
    request: Request,
    case_id: Id,
    session: SessionDep,
    reason: Annotated[Text, Form(max_length=2000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    async def work() -> None:
        await disclosing.end_embargo(
            session,
            case_id=case_id,
            actor=principal.actor,
            is_admin=principal.role is Role.ADMIN,
            reason=reason,
            settings=_settings(request),
            now=datetime.now(UTC),
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: "The embargo ended: the case is public.",
        back=f"/cases/{case_id}/disclosure",
    )


@router.post("/cases/{case_id:int}/disclosure/approve")
async def approve_disclosure(
    request: Request,
    case_id: Id,
    session: SessionDep,
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    return await _decision(
        request,
        session,
        case_id,
        principal.actor,
        approve=True,
        comment=comment,
        decide=disclosing.decide_disclosure,
        what="Disclosure",
        anchor="disclosure",
    )


@router.post("/cases/{case_id:int}/disclosure/reject")
async def reject_disclosure(
    request: Request,
    case_id: Id,
    session: SessionDep,
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(MANAGE),
) -> Response:
    return await _decision(
        request,
        session,
        case_id,
        principal.actor,
        approve=False,
        comment=comment,
        decide=disclosing.decide_disclosure,
        what="Disclosure",
        anchor="disclosure",
    )
