"""What the team reads of a case's advisory: its overview (each version with its deliveries,
translations and the languages it went out in) and a tenant's preview of the latest version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.errors import Invalid
from vulnops.notify import context, deliveries, delivery_admin, service, translations
from vulnops.notify.models import (
    Advisory,
    AdvisoryRecipient,
    AdvisoryTranslation,
    AdvisoryVersion,
    Feedback,
)
from vulnops.notify.rendering import RenderError
from vulnops.notify.schemas import TranslationOut
from vulnops.settings import Settings
from vulnops.tenants import service as tenants


@dataclass(frozen=True)
class Preview:
    text: str
    language: str | None  # the translation shown; None: the original


async def preview(
    session: AsyncSession,
    *,
    case_id: int,
    tenant_key: str,
    now: datetime,
    settings: Settings,
) -> Preview:
    """The latest version as ``tenant_key`` would read it (staff, before sending): in the
    translation it would get, a draft one included, else the original."""
    advisory = await service.advisory_of(session, case_id)
    version = await service.latest_version(session, advisory.id)
    assert version is not None
    tenant = await tenants.get_tenant_by_key(session, key=tenant_key)
    case = await cases.get_case(session, case_id=case_id)
    language = await deliveries.translation_for(
        session, version_id=version.id, language=tenant.language, drafts=version.status != "sent"
    )
    translation = (
        await session.scalar(
            select(AdvisoryTranslation).where(
                AdvisoryTranslation.version_id == version.id,
                AdvisoryTranslation.language == language,
            )
        )
        if language
        else None
    )
    exposed = await context.tenant_exposure(session, case_id=case.id, tenant_id=tenant.id)
    try:
        text = context.text_for(
            case=case,
            version=version,
            translation=translation,
            tenant=tenant,
            exposed=exposed,
            now=now,
            settings=settings,
        )
    except RenderError as error:
        raise Invalid(f"the template does not render for tenant {tenant.key}: {error}") from None
    return Preview(text, language)


async def overview(session: AsyncSession, *, case_id: int) -> dict[str, Any] | None:
    """The advisory of a case with its versions and, per version, the delivery counts."""
    advisory = await service.find(session, case_id=case_id)
    if advisory is None:
        return None
    found = await service.versions(session, advisory_id=advisory.id)
    ids = [v.id for v in found]
    counts = await delivery_admin.counts(session, version_ids=ids)
    translated = await translations.of_versions(session, version_ids=ids)
    sent_in = await deliveries.languages(session, version_ids=ids)
    recipients = await session.scalar(
        select(func.count()).where(AdvisoryRecipient.advisory_id == advisory.id)
    )
    rating = await session.execute(
        select(func.count(), func.avg(Feedback.rating)).where(Feedback.advisory_id == advisory.id)
    )
    given, average = rating.one()
    return {
        "id": advisory.id,
        "case_id": case_id,
        "withdrawn": withdrawn_of(advisory),
        "recipients": int(recipients or 0),
        "feedback": {"count": int(given), "average": float(average) if average else None},
        "versions": [
            _with_portal(
                {
                    **_version_data(v),
                    **counts[v.id],
                    "translations": [
                        TranslationOut.model_validate(t).model_dump() for t in translated[v.id]
                    ],
                    "languages": sent_in[v.id],
                },
                int(recipients or 0),
            )
            for v in found
        ],
    }


def withdrawn_of(advisory: Advisory) -> dict[str, Any] | None:
    """When, by whom and why the advisory was withdrawn (None: it was not)."""
    if advisory.withdrawn_at is None:
        return None
    return {
        "at": advisory.withdrawn_at,
        "by": advisory.withdrawn_by,
        "reason": advisory.withdrawn_reason,
    }


def _with_portal(view: dict[str, Any], recipients: int) -> dict[str, Any]:
    """A sent version is in the portal of every recipient."""
    if view["status"] == "sent":
        view["channels"] = {"portal": {"delivered": recipients}, **view["channels"]}
    return view


def _version_data(version: AdvisoryVersion) -> dict[str, Any]:
    return {
        column: getattr(version, column)
        for column in (
            "number",
            "title",
            "summary",
            "exposed_since",
            "action_required",
            "action_steps",
            "body",
            "status",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "sent_by",
            "sent_at",
        )
    }


def totals(view: dict[str, Any]) -> dict[str, int]:
    """A version's deliveries summed over the channels that send (email and webhook)."""
    summed: dict[str, int] = {}
    for channel in deliveries.CHANNELS:
        for status, count in view["channels"].get(channel, {}).items():
            summed[status] = summed.get(status, 0) + count
    return summed
