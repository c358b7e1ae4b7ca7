"""The customer's side: a tenant's advisories (only those its tenant received), reading them,
acknowledging them and saying how well we told them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops import i18n
from vulnops.audit import service as audit
from vulnops.cases import service as cases
from vulnops.db.pagination import Page
from vulnops.errors import NotFound
from vulnops.notify.advisory_view import withdrawn_of
from vulnops.notify.context import tenant_exposure, text_for
from vulnops.notify.models import (
    Acknowledgment,
    Advisory,
    AdvisoryRecipient,
    AdvisoryTranslation,
    AdvisoryVersion,
    Delivery,
    Feedback,
)
from vulnops.notify.rendering import TLP, RenderError
from vulnops.notify.service import subject
from vulnops.settings import Settings
from vulnops.tenants import service as tenants
from vulnops.tenants.models import Tenant

# The tenant's advisories at their latest sent version, titled in the translation it was sent,
# gathered first (materialized: the planner then joins the few rows it found, rather than
# misjudge the anti-join of the acknowledgments and scan every advisory for each).
_LATEST = """
WITH latest AS MATERIALIZED (
    SELECT r.advisory_id, v.id AS version_id, v.number, v.sent_at, v.action_required,
           coalesce((SELECT tr.title FROM deliveries d
                     JOIN advisory_translations tr
                       ON tr.version_id = d.version_id AND tr.language = d.language
                     WHERE d.version_id = v.id AND d.tenant_id = r.tenant_id AND d.reminder = 0
                     LIMIT 1), v.title) AS title
    FROM advisory_recipients r
    JOIN LATERAL (
        SELECT v.id, v.number, v.title, v.sent_at, v.action_required FROM advisory_versions v
        WHERE v.advisory_id = r.advisory_id AND v.status = 'sent'
        ORDER BY v.number DESC LIMIT 1
    ) v ON true
    WHERE r.tenant_id = :tenant_id
)
"""
_FROM = """
FROM latest l
JOIN advisories a ON a.id = l.advisory_id
JOIN cases c ON c.id = a.case_id
"""
_UNACKNOWLEDGED = """
WHERE NOT EXISTS (SELECT 1 FROM advisory_acknowledgments k
                  WHERE k.version_id = l.version_id AND k.tenant_id = :tenant_id)
"""


async def tenant_advisories(
    session: AsyncSession,
    *,
    tenant_id: int,
    unacknowledged: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> Page[dict[str, Any]]:
    """The advisories the tenant received, newest first (each at its latest sent version);
    ``unacknowledged``: only those whose latest version nobody of the tenant acknowledged."""
    per_page, page = min(max(per_page, 1), 200), max(page, 1)
    params = {"tenant_id": tenant_id}
    where = _FROM + (_UNACKNOWLEDGED if unacknowledged else "")
    total = await session.scalar(text(f"{_LATEST} SELECT count(*) {where}"), params)
    rows = await session.execute(
        text(
            f"{_LATEST} SELECT a.id, c.tracking_id, l.number, l.title, l.sent_at, "  # noqa: S608
            "a.withdrawn_at, "
            "l.action_required, (SELECT k.acknowledged_at FROM advisory_acknowledgments k "
            " WHERE k.version_id = l.version_id AND k.tenant_id = :tenant_id) AS acknowledged_at "
            f"{where} ORDER BY l.sent_at DESC, a.id DESC LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    )
    return Page([dict(row._mapping) for row in rows], int(total or 0), page, per_page)


async def tenant_language(session: AsyncSession, *, tenant_id: int) -> str:
    """The tenant's BCP 47 tag: what its portal's pages and messages are in."""
    found = await session.scalar(select(Tenant.language).where(Tenant.id == tenant_id))
    return found or i18n.SOURCE


async def sent_versions(
    session: AsyncSession, advisory_id: int, tenant_id: int
) -> tuple[Advisory, list[AdvisoryVersion]]:
    """The advisory's sent versions, if ``tenant_id`` is in its audience; else 404 (another
    tenant's advisory and a missing one look the same)."""
    advisory = await session.get(Advisory, advisory_id)
    recipient = await session.get(AdvisoryRecipient, (advisory_id, tenant_id))
    sent = list(
        await session.scalars(
            select(AdvisoryVersion)
            .where(AdvisoryVersion.advisory_id == advisory_id, AdvisoryVersion.status == "sent")
            .order_by(AdvisoryVersion.number.desc())
        )
    )
    if advisory is None or recipient is None or not sent:
        raise NotFound(f"no advisory {advisory_id}")
    return advisory, sent


async def _carried(
    session: AsyncSession, version_ids: list[int], tenant_id: int
) -> dict[int, AdvisoryTranslation]:
    """The translation each version's first message to the tenant carried (what it was sent
    is what it reads), where one did."""
    rows = await session.execute(
        select(Delivery.version_id, AdvisoryTranslation)
        .join(
            AdvisoryTranslation,
            (AdvisoryTranslation.version_id == Delivery.version_id)
            & (AdvisoryTranslation.language == Delivery.language),
        )
        .where(
            Delivery.version_id.in_(version_ids),
            Delivery.tenant_id == tenant_id,
            Delivery.reminder == 0,
        )
        .distinct(Delivery.version_id)
    )
    return dict(rows.tuples().all())


def _shown(read: Callable[[], str], settings: Settings) -> str:
    """The text ``read`` renders, or a sentence saying it cannot be shown (the data, or a
    bound, changed since the send's check)."""
    try:
        return read()
    except RenderError as error:
        return f"(This version cannot be shown: {error}. Contact {settings.notify_contact_email}.)"


async def tenant_advisory(
    session: AsyncSession, *, advisory_id: int, tenant_id: int, now: datetime, settings: Settings
) -> dict[str, Any]:
    """Every sent version (newest first) as the tenant reads it, with its acknowledgments and
    the tenant's feedback."""
    advisory, sent = await sent_versions(session, advisory_id, tenant_id)
    case = await cases.get_case(session, case_id=advisory.case_id)
    tenant = await tenants.get_tenant(session, tenant_id=tenant_id)
    acks = dict(
        (
            await session.execute(
                select(Acknowledgment.version_id, Acknowledgment.acknowledged_at).where(
                    Acknowledgment.tenant_id == tenant_id,
                    Acknowledgment.version_id.in_([v.id for v in sent]),
                )
            )
        ).all()
    )
    exposed = await tenant_exposure(session, case_id=case.id, tenant_id=tenant_id)
    carried = await _carried(session, [v.id for v in sent], tenant_id)
    shown = []
    for version in sent:
        given = carried.get(version.id)
        words = partial(
            text_for,
            case=case,
            version=version,
            tenant=tenant,
            exposed=exposed,
            now=now,
            settings=settings,
        )
        shown.append(
            {
                "number": version.number,
                "title": given.title if given else version.title,
                "sent_at": version.sent_at,
                "action_required": version.action_required,
                "text": _shown(partial(words, translation=given), settings),
                "original": _shown(partial(words, translation=None), settings) if given else None,
                "language": given.language if given else None,
                "acknowledged_at": acks.get(version.id),
            }
        )
    feedback = await session.get(Feedback, (advisory_id, tenant_id))
    withdrawn = withdrawn_of(advisory)
    return {
        "id": advisory.id,
        "tracking_id": case.tracking_id,
        "tlp": TLP,
        "contact": settings.notify_contact_email,
        # Who withdrew it is the team's business: the tenant reads when and why.
        "withdrawn": {**withdrawn, "by": None} if withdrawn else None,
        "tenant": {
            "key": tenant.key,
            "name": tenant.name,
            "time_zone": tenant.time_zone,
            "language": tenant.language,
        },
        "versions": shown,
        "feedback": (
            {"rating": feedback.rating, "comment": feedback.comment, "given_at": feedback.given_at}
            if feedback
            else None
        ),
    }


async def acknowledge(
    session: AsyncSession, *, advisory_id: int, tenant_id: int, actor: str
) -> int:
    """Acknowledge the latest sent version (again is harmless); returns its number."""
    _, sent = await sent_versions(session, advisory_id, tenant_id)
    latest = sent[0]
    added = await session.execute(
        insert(Acknowledgment)
        .values(version_id=latest.id, tenant_id=tenant_id, acknowledged_by=actor)
        .on_conflict_do_nothing()
    )
    if added.rowcount:  # type: ignore[attr-defined]
        await audit.record(
            session,
            subject=subject(advisory_id),
            kind="advisory.acknowledged",
            actor=actor,
            data={"tenant_id": tenant_id, "version": latest.number},
        )
    return latest.number


async def give_feedback(
    session: AsyncSession,
    *,
    advisory_id: int,
    tenant_id: int,
    rating: int,
    comment: str,
    actor: str,
) -> None:
    """The tenant's answer (a second answer replaces the first)."""
    await sent_versions(session, advisory_id, tenant_id)
    values = {"rating": rating, "comment": comment, "given_by": actor}
    await session.execute(
        insert(Feedback)
        .values(advisory_id=advisory_id, tenant_id=tenant_id, **values)
        .on_conflict_do_update(
            index_elements=["advisory_id", "tenant_id"],
            set_={**values, "given_at": text("now()")},
        )
    )
    await audit.record(
        session,
        subject=subject(advisory_id),
        kind="advisory.feedback",
        actor=actor,
        data={"tenant_id": tenant_id, "rating": rating, "comment": comment},
    )


async def feedback_of(
    session: AsyncSession, *, advisory_id: int, page: int = 1, per_page: int = 50
) -> Page[dict[str, Any]]:
    """What the tenants answered (for the post-incident review), newest first."""
    per_page, page = min(max(per_page, 1), 200), max(page, 1)
    total = await session.scalar(
        text("SELECT count(*) FROM advisory_feedback WHERE advisory_id = :id"),
        {"id": advisory_id},
    )
    rows = await session.execute(
        text(
            "SELECT t.key AS tenant, f.rating, f.comment, f.given_by, f.given_at "
            "FROM advisory_feedback f JOIN tenants t ON t.id = f.tenant_id "
            "WHERE f.advisory_id = :id ORDER BY f.given_at DESC LIMIT :limit OFFSET :offset"
        ),
        {"id": advisory_id, "limit": per_page, "offset": (page - 1) * per_page},
    )
    return Page([dict(row._mapping) for row in rows], int(total or 0), page, per_page)
