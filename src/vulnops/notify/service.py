"""Advisories: drafted per case, approved by communications, sent to the case's affected tenants;
read, acknowledged and rated by those tenants in the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.states import Milestone
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.fleet import blast
from vulnops.notify import context, deliveries, translations
from vulnops.notify.models import (
    Advisory,
    AdvisoryRecipient,
    AdvisoryVersion,
)
from vulnops.notify.rendering import (
    RenderError,
    render,
    render_limits,
)
from vulnops.notify.schemas import DraftIn
from vulnops.notify.tasks import queue_delivery_jobs
from vulnops.notify.withdrawal import refuse_if_withdrawn
from vulnops.settings import Settings
from vulnops.tenants import service as tenants


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


async def latest_version(
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
    latest = await latest_version(session, advisory.id, lock=True)
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
    advisory = await advisory_of(session, case_id)
    version = await latest_version(session, advisory.id, lock=True)
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


async def advisory_of(session: AsyncSession, case_id: int) -> Advisory:
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
    advisory = await advisory_of(session, case_id)
    refuse_if_withdrawn(advisory, "sending it")
    version = await latest_version(session, advisory.id, lock=True)
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
    exposed = await context.tenant_exposure(session, case_id=case.id, tenant_id=tenant.id)
    try:
        context.text_for(
            case=case,
            version=version,
            translation=None,
            tenant=tenant,
            exposed=exposed,
            now=now,
            settings=settings,
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
