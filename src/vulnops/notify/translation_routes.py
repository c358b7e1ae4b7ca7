"""Routes of an advisory version's translations: the API's and the advisory page's forms.
Writing one takes the advisory writers' permission; approving it the approvers' (and another
person than its authors)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from vulnops.approvals.schemas import DecisionIn
from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.errors import Invalid
from vulnops.notify import translations
from vulnops.notify.api import APPROVE, WRITE
from vulnops.notify.schemas import TranslationIn, TranslationOut, TranslationSaved
from vulnops.settings import Settings
from vulnops.ui.forms import form_action
from vulnops.ui.templating import flash

api = APIRouter(tags=["notification"])
pages = APIRouter(include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _saved(saved: translations.Saved) -> TranslationSaved:
    return TranslationSaved.model_validate(
        {**TranslationOut.model_validate(saved.translation).model_dump(), "note": saved.note}
    )


@api.put("/api/cases/{case_id:int}/advisory/translations/{language}")
async def save_translation(
    case_id: Id,
    language: Text,
    body: TranslationIn,
    request: Request,
    session: SessionDep,
    principal: Principal = require(WRITE),
) -> TranslationSaved:
    """Write the latest unsent version's text in ``language`` (a BCP 47 tag); it waits for a
    second person's approval. ``note`` says when no tenant of the audience reads it."""
    saved = await translations.save(
        session,
        case_id=case_id,
        language=language,
        draft=body,
        actor=principal.actor,
        settings=_settings(request),
    )
    await session.commit()
    return _saved(saved)


async def _decide_api(
    request: Request,
    session: SessionDep,
    case_id: int,
    language: str,
    principal: Principal,
    *,
    approve: bool,
    comment: str | None,
) -> TranslationOut:
    translation = await translations.decide(
        session,
        case_id=case_id,
        language=language,
        actor=principal.actor,
        approve=approve,
        comment=comment,
        settings=_settings(request),
        now=datetime.now(UTC),
    )
    await session.commit()
    return TranslationOut.model_validate(translation)


@api.post("/api/cases/{case_id:int}/advisory/translations/{language}/approve")
async def approve_translation(
    case_id: Id,
    language: Text,
    request: Request,
    session: SessionDep,
    body: DecisionIn | None = None,
    principal: Principal = require(APPROVE),
) -> TranslationOut:
    """Approve the translation: someone who did not write it (four eyes)."""
    return await _decide_api(
        request,
        session,
        case_id,
        language,
        principal,
        approve=True,
        comment=body.comment if body else None,
    )


@api.post("/api/cases/{case_id:int}/advisory/translations/{language}/reject")
async def reject_translation(
    case_id: Id,
    language: Text,
    request: Request,
    session: SessionDep,
    body: DecisionIn,
    principal: Principal = require(APPROVE),
) -> TranslationOut:
    """Send the translation back to its authors with a ``comment`` (it stays a draft)."""
    return await _decide_api(
        request, session, case_id, language, principal, approve=False, comment=body.comment
    )


@api.delete("/api/cases/{case_id:int}/advisory/translations/{language}", status_code=204)
async def remove_translation(
    case_id: Id, language: Text, session: SessionDep, principal: Principal = require(WRITE)
) -> Response:
    """Drop the translation of the unsent version (its tenants then read the original)."""
    await translations.remove(session, case_id=case_id, language=language, actor=principal.actor)
    await session.commit()
    return Response(status_code=204)


@pages.post("/cases/{case_id:int}/advisory/translations")
async def save_page(
    request: Request,
    case_id: Id,
    session: SessionDep,
    language: Annotated[Text, Form(max_length=35)] = "",
    title: Annotated[Text, Form(max_length=300)] = "",
    summary: Annotated[Text, Form(max_length=20_000)] = "",
    action_steps: Annotated[Text, Form(max_length=20_000)] = "",
    body: Annotated[Text, Form(max_length=100_000)] = "",
    principal: Principal = require(WRITE),
) -> Response:
    async def work() -> translations.Saved:
        try:
            draft = TranslationIn.model_validate(
                {"title": title, "summary": summary, "action_steps": action_steps, "body": body}
            )
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise Invalid(f"{field}: {first['msg']}", field=field) from None
        return await translations.save(
            session,
            case_id=case_id,
            language=language,
            draft=draft,
            actor=principal.actor,
            settings=_settings(request),
        )

    def done(saved: translations.Saved) -> str:
        if saved.note:
            flash(request, f"Note: {saved.note}.", "info")
        return (
            f"{saved.translation.language} translation saved; another person approves it "
            "before it is sent."
        )

    return await form_action(
        request, session, work, done=done, back=f"/cases/{case_id}/advisory#translations"
    )


@pages.post("/cases/{case_id:int}/advisory/translations/{language}/decide")
async def decide_page(
    request: Request,
    case_id: Id,
    language: Text,
    session: SessionDep,
    decision: Annotated[Text, Form(max_length=10)] = "",
    comment: Annotated[Text, Form(max_length=4000)] = "",
    principal: Principal = require(APPROVE),
) -> Response:
    approve = decision == "approve"

    async def work() -> str:
        translation = await translations.decide(
            session,
            case_id=case_id,
            language=language,
            actor=principal.actor,
            approve=approve,
            comment=comment,
            settings=_settings(request),
            now=datetime.now(UTC),
        )
        return translation.language

    verb = "approved" if approve else "sent back to its authors"
    return await form_action(
        request,
        session,
        work,
        done=lambda tag: f"The {tag} translation was {verb}.",
        back=f"/cases/{case_id}/advisory#translations",
    )


@pages.post("/cases/{case_id:int}/advisory/translations/{language}/remove")
async def remove_page(
    request: Request,
    case_id: Id,
    language: Text,
    session: SessionDep,
    principal: Principal = require(WRITE),
) -> Response:
    async def work() -> None:
        await translations.remove(
            session, case_id=case_id, language=language, actor=principal.actor
        )

    return await form_action(
        request,
        session,
        work,
        done=lambda _: f"The {language} translation was removed.",
        back=f"/cases/{case_id}/advisory#translations",
    )
