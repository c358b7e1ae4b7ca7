"""What an advisory's template is rendered with: for one real tenant (its exposed resources,
each until the fix of the case reached its unit), or for a made-up one when a draft is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases.models import Case
from vulnops.fleet import blast
from vulnops.i18n import SOURCE, gettext, speaking, when
from vulnops.notify.models import AdvisoryTranslation, AdvisoryVersion
from vulnops.notify.rendering import (
    MAX_RESOURCES_SHOWN,
    TLP,
    AdvisoryContext,
    ExposedResource,
    exposure,
    render,
    render_limits,
)
from vulnops.notify.schemas import DraftIn
from vulnops.rollout import service as rollouts
from vulnops.settings import Settings
from vulnops.tenants.models import Tenant


def sample_context(
    case: Case, draft: DraftIn | Wording, settings: Settings, *, action_required: bool
) -> AdvisoryContext:
    """A made-up tenant with one exposed resource: what a template is checked against when
    it is saved (the send checks it against a real recipient)."""
    return AdvisoryContext(
        tlp=TLP,
        title=draft.title,
        summary=draft.summary,
        case=case_data(case),
        tenant={"key": "example", "name": "Example Tenant"},
        resources=[
            ExposedResource("example-resource", "example-region", "svc/region/1", "", None, "")
        ],
        resource_count=1,
        mitigation="",
        action_required=action_required,
        action_steps=draft.action_steps,
        contact=settings.notify_contact_email,
    )


class Wording(Protocol):
    """The words of a version or of one of its translations."""

    title: str
    summary: str
    action_steps: str


def case_data(case: Case) -> dict[str, Any]:
    return {"tracking_id": case.tracking_id, "title": case.title, "rating": case.rating or ""}


@dataclass(frozen=True)
class Exposure:
    """One tenant's affected resources (the first ones), how many in all, and when the fix
    reached each resource's unit — the same for every version of the advisory."""

    resources: list[dict[str, Any]]
    total: int
    fixed: dict[int, datetime]


async def tenant_exposure(session: AsyncSession, *, case_id: int, tenant_id: int) -> Exposure:
    found, total = await blast.tenant_exposure(
        session, case_id=case_id, tenant_id=tenant_id, limit=MAX_RESOURCES_SHOWN
    )
    fixed = await rollouts.fixed_since(
        session, case_id=case_id, unit_ids=sorted({row["unit_id"] for row in found})
    )
    return Exposure(found, total, fixed)


def tenant_context(
    *,
    case: Case,
    version: AdvisoryVersion,
    tenant: Tenant,
    exposed: Exposure,
    now: datetime,
    settings: Settings,
    translation: AdvisoryTranslation | None = None,
) -> AdvisoryContext:
    """What the template gets for one tenant: its exposed resources, each exposed from the
    version's ``exposed_since`` until the fix of the case reached its unit (dates on the
    tenant's clock, in the language being rendered); the words of ``translation`` when given,
    else of the version."""
    fixed, since = exposed.fixed, version.exposed_since
    resources = [
        ExposedResource(
            external_id=row["external_id"],
            region=row["region"],
            unit=row["unit"],
            exposed_from=when(since, tenant.time_zone),
            fixed_at=when(fixed[row["unit_id"]], tenant.time_zone)
            if row["unit_id"] in fixed
            else None,
            exposure=exposure(since=since, until=fixed.get(row["unit_id"]), now=now),
        )
        for row in exposed.resources
    ]
    still = sum(1 for item in resources if item.fixed_at is None)
    # In the language of the translation being rendered (vulnops.i18n.speaking).
    if not resources:
        mitigation = gettext("None of your resources is on an affected system.")
    elif still == 0 and exposed.total == len(resources):
        mitigation = gettext("Fixed: every one of your affected resources runs on fixed systems.")
    else:
        mitigation = gettext(
            "The fix is rolling out: %(fixed)s of the %(listed)s resources listed run on fixed "
            "systems."
        ) % {"fixed": len(resources) - still, "listed": len(resources)}
    words: Wording = translation or version
    return AdvisoryContext(
        tlp=TLP,
        title=words.title,
        summary=words.summary,
        case=case_data(case),
        tenant={"key": tenant.key, "name": tenant.name},
        resources=resources,
        resource_count=exposed.total,
        mitigation=mitigation,
        action_required=version.action_required,
        action_steps=words.action_steps,
        contact=settings.notify_contact_email,
    )


def text_for(
    *,
    case: Case,
    version: AdvisoryVersion,
    translation: AdvisoryTranslation | None,
    tenant: Tenant,
    exposed: Exposure,
    now: datetime,
    settings: Settings,
) -> str:
    """What one tenant reads of a version: the translation's text, in its language, or the
    original's; :class:`~vulnops.notify.rendering.RenderError` when the template fails."""
    with speaking(translation.language if translation else SOURCE):
        given = tenant_context(
            case=case,
            version=version,
            tenant=tenant,
            exposed=exposed,
            now=now,
            settings=settings,
            translation=translation,
        )
        body = translation.body if translation else version.body
        return render(body, given, limits=render_limits(settings))
