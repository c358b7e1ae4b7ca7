"""Advisories: drafted per case, approved by communications, sent to the case's affected tenants;
read, acknowledged and rated by those tenants in the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops import i18n
from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.fleet import blast
from vulnops.notify import context, deliveries, delivery_admin, translations
from vulnops.notify.models import (
    Advisory,
    AdvisoryRecipient,
    AdvisoryTranslation,
    AdvisoryVersion,
    Feedback,
)
from vulnops.notify.rendering import (
    AdvisoryContext,
    RenderError,
    render,
    render_limits,
)
from vulnops.notify.schemas import DraftIn, TranslationOut
from vulnops.notify.tasks import queue_delivery_jobs
from vulnops.notify.withdrawal import refuse_if_withdrawn
from vulnops.settings import Settings
from vulnops.tenants import service as tenants
from vulnops.tenants.models import Tenant


def subject(advisory_id: int) -> str:
    return f"advisory:{advisory_id}"


async def find(session: AsyncSession, *, case_id: int) -> Advisory | None:
    advisory: Advisory | None = await session.scalar(
        select(Advisory).where(Advisory.case_id == case_id)
    )
    return advisory


async def versions(session: AsyncSession, *, advisory_id: int) -> list[AdvisoryVersion]:
    rows = await session.scalars(
        select(AdvisoryVersion)
        .where(AdvisoryVersion.advisory_id == advisory_id)
        .order_by(AdvisoryVersion.number)
    )
    return list(rows)


async def _latest(
    session: AsyncSession, advisory_id: int, *, lock: bool = False
) -> AdvisoryVersion | None:
    query = (
        select(AdvisoryVersion)
        .where(AdvisoryVersion.advisory_id == advisory_id)
        .order_by(AdvisoryVersion.number.desc())
        .limit(1)
    )
    version: AdvisoryVersion | None = await session.scalar(
        query.with_for_update() if lock else query
    )
    return version


async def save_draft(
    session: AsyncSession, *, case_id: int, draft: DraftIn, actor: str, settings: Settings
) -> AdvisoryVersion:
    """Write the advisory's next version: a new one after a sent version, else the current
    draft is replaced. Either way it waits for a second person's approval."""
    case = await cases.get_case(session, case_id=case_id)
    if draft.action_required and not draft.action_steps:
        raise Invalid("action_steps: say what the customer must do when action is required")
    try:
        render(
            draft.body,
            context.sample_context(case, draft, settings, action_required=draft.action_required),
            limits=render_limits(settings),
        )
    except RenderError as error:
        raise Invalid(f"body: the template does not render: {error}") from None
    advisory = await find(session, case_id=case_id)
    if advisory is None:
        advisory = Advisory(case_id=case_id, created_by=actor)
        session.add(advisory)
        await session.flush()
    refuse_if_withdrawn(advisory, "writing a new version")
    latest = await _latest(session, advisory.id, lock=True)
    if latest is None or latest.status == "sent":
        version = AdvisoryVersion(
            advisory_id=advisory.id, number=(latest.number + 1) if latest else 1, created_by=actor
        )
        session.add(version)
    else:
        version = latest
        await translations.reopen(session, case_id=case_id, version=version, actor=actor)
    for field, value in draft.model_dump().items():
        setattr(version, field, value)
    version.status, version.approved_by, version.approved_at = "draft", None, None
    await session.flush()
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.drafted",
        actor=actor,
        data={"advisory": advisory.id, "version": version.number, "title": version.title},
    )
    await approvals.request(
        session,
        step=Step.ADVISORY,
        subject=approval_subject(version),
        case_id=case_id,
        summary=f"Advisory version {version.number} of {case.tracking_id}: {version.title}",
        author=actor,
    )
    return version


def approval_subject(version: AdvisoryVersion) -> str:
    return f"advisory_version:{version.id}"


async def decide(
    session: AsyncSession,
    *,
    case_id: int,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> AdvisoryVersion:
    """The communications sign-off of the latest draft, by someone who did not write it (four
    eyes); a rejected draft stays a draft, with the comment, until it is written again."""
    advisory = await _advisory(session, case_id)
    version = await _latest(session, advisory.id, lock=True)
    if version is None or version.status != "draft":
        state = version.status if version else "missing"
        raise Conflict(f"only a draft is approved or rejected; the latest version is {state}")
    await approvals.decide(
        session,
        subject=approval_subject(version),
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=now,
    )
    if approve:
        version.status, version.approved_by, version.approved_at = "approved", actor, now
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.approved" if approve else "advisory.rejected",
        actor=actor,
        data={"advisory": advisory.id, "version": version.number, "comment": comment},
    )
    return version


async def _advisory(session: AsyncSession, case_id: int) -> Advisory:
    advisory = await find(session, case_id=case_id)
    if advisory is None:
        raise NotFound(f"case {case_id} has no advisory yet")
    return advisory


@dataclass(frozen=True)
class SendResult:
    version: int
    recipients: int
    deliveries: int
    languages: dict[str, int]  # tenants that received each translation ('' the original)

    def in_languages(self) -> str:
        """``3 the original, 1 fr``."""
        return ", ".join(
            f"{count:,} {language or 'the original'}"
            for language, count in sorted(self.languages.items())
        )


async def send(
    session: AsyncSession, *, case_id: int, actor: str, settings: Settings, now: datetime
) -> SendResult:
    """Send the approved latest version to the advisory's audience (the case's affected
    tenants, taken when the first version is sent). The template is rendered for a real
    recipient first: if it fails, nothing is written."""
    advisory = await _advisory(session, case_id)
    refuse_if_withdrawn(advisory, "sending it")
    version = await _latest(session, advisory.id, lock=True)
    if version is None or version.status != "approved":
        state = version.status if version else "missing"
        raise Conflict(
            f"the latest version is {state}; a communications approver must approve it first"
        )
    await translations.check_waiting(session, version=version)
    if version.number == 1:
        if await blast.find(session, case_id=case_id) is None:
            raise Conflict("compute the case's blast radius first: it is the audience")
        await session.execute(
            text(
                "INSERT INTO advisory_recipients (advisory_id, tenant_id, resources) "
                "SELECT :advisory_id, tenant_id, resources FROM blast_tenants "
                "WHERE case_id = :case_id"
            ),
            {"advisory_id": advisory.id, "case_id": case_id},
        )
    recipients = int(
        await session.scalar(
            select(func.count()).where(AdvisoryRecipient.advisory_id == advisory.id)
        )
        or 0
    )
    if recipients == 0:
        raise Conflict("no tenant is affected: there is nobody to notify")
    first = await session.scalar(
        select(AdvisoryRecipient.tenant_id)
        .where(AdvisoryRecipient.advisory_id == advisory.id)
        .order_by(AdvisoryRecipient.resources.desc(), AdvisoryRecipient.tenant_id)
        .limit(1)
    )
    assert first is not None
    tenant = await tenants.get_tenant(session, tenant_id=first)
    case = await cases.get_case(session, case_id=case_id)
    try:
        render(
            version.body,
            await _context_for(session, case, version, tenant, now=now, settings=settings),
            limits=render_limits(settings),
        )
    except RenderError as error:
        raise Invalid(
            f"nothing was sent: the template does not render for tenant {tenant.key}: {error}"
        ) from None
    created = await deliveries.create(
        session,
        advisory_id=advisory.id,
        version_id=version.id,
        email_enabled=settings.smtp_enabled,
    )
    await translations.check_renders(
        session, case=case, version=version, now=now, settings=settings
    )
    languages = (await deliveries.languages(session, version_ids=[version.id]))[version.id]
    version.status, version.sent_by, version.sent_at = "sent", actor, now
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.sent",
        actor=actor,
        data={
            "advisory": advisory.id,
            "version": version.number,
            "approved_by": version.approved_by,
            "recipients": recipients,
            "deliveries": created,
            "languages": languages,
        },
    )
    await milestones.record(
        session,
        case_id=case_id,
        milestones=[Milestone.CUSTOMERS_NOTIFIED],
        at=now,
        actor=actor,
        source=f"advisory:{advisory.id}",
        settings=settings,
    )
    for channel in deliveries.CHANNELS:
        await queue_delivery_jobs(session, settings=settings, channel=channel)
    return SendResult(
        version=version.number, recipients=recipients, deliveries=created, languages=languages
    )


async def _context_for(
    session: AsyncSession,
    case: Case,
    version: AdvisoryVersion,
    tenant: Tenant,
    *,
    now: datetime,
    settings: Settings,
) -> AdvisoryContext:
    exposed = await context.tenant_exposure(session, case_id=case.id, tenant_id=tenant.id)
    return context.tenant_context(
        case=case, version=version, tenant=tenant, exposed=exposed, now=now, settings=settings
    )


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
    advisory = await _advisory(session, case_id)
    version = await _latest(session, advisory.id)
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
    with i18n.speaking(language or i18n.SOURCE):
        given = context.tenant_context(
            case=case,
            version=version,
            tenant=tenant,
            exposed=exposed,
            now=now,
            settings=settings,
            translation=translation,
        )
        try:
            body = translation.body if translation else version.body
            return Preview(render(body, given, limits=render_limits(settings)), language)
        except RenderError as error:
            raise Invalid(
                f"the template does not render for tenant {tenant.key}: {error}"
            ) from None


async def overview(session: AsyncSession, *, case_id: int) -> dict[str, Any] | None:
    """The advisory of a case with its versions and, per version, the delivery counts."""
    advisory = await find(session, case_id=case_id)
    if advisory is None:
        return None
    found = await versions(session, advisory_id=advisory.id)
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
