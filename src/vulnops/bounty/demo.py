"""The demo's bounty: a programme with the default table, an award granted and paid (the payout
marked by hand), and a larger one waiting for an administrator's approval. The reports seeder's
duplicates (closed as duplicates of their case's first report) earn nothing by default; the
researcher disputes one closure, answered a paid retest, chose a name for the hall of fame, and
the event log is scored for reputation (``seed_recognition``, after the rest is committed)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.bounty import decisions, disputes, payouts, programs, reputation, retests
from vulnops.bounty.awards import Assessment
from vulnops.bounty.models import BountyAward
from vulnops.bounty.tables import load_table
from vulnops.intake.models import Report
from vulnops.intake.states import CloseReason
from vulnops.settings import get_settings

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

RESPONDER = "responder@vulnops.example"
ADMIN = "admin@vulnops.example"


async def seed_bounty(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    researcher = await users.get_user_by_email(session, email="researcher@vulnops.example")
    await programs.create_program(
        session,
        key="cloud",
        name="Cloud services",
        rules="Test only your own tenants. No denial of service, no social engineering.",
        table=load_table(),
        scope=programs.Scope(out_of_scope=["the marketing site (run by a third party)"]),
        starts_at=context.now - timedelta(days=365),
        actor=ADMIN,
    )
    assessed = list(
        await session.scalars(
            select(Report)
            .where(
                Report.reporter_id == researcher.id,
                Report.state.in_([s.value for s in decisions.ASSESSED]),
                Report.duplicate_of_id.is_(None),
            )
            .order_by(Report.id)
            .limit(2)
        )
    )
    if len(assessed) < 2:
        return  # the reports seeder made none to award (not in this demo)
    paid, waiting = assessed
    small = await decisions.propose(
        session,
        report_id=paid.id,
        assessment=Assessment("security_feature_bypass", "important", "high"),
        actor=RESPONDER,
        settings=settings,
        now=context.now,
    )
    await decisions.submit(
        session, award_id=small.id, actor=RESPONDER, settings=settings, now=context.now
    )
    await payouts.set_payee(
        session,
        researcher_id=researcher.id,
        payment_reference="payoneer:researcher-0042",
        country="FR",
        tax_form_received=True,
        actor=ADMIN,
        now=context.now,
    )
    key = f"payout:{paid.tracking_id}"
    await payouts.ask(
        session,
        key=key,
        researcher_id=researcher.id,
        amount=small.amount,
        currency=small.currency,
        actor=ADMIN,
    )
    await payouts.mark(session, payout_key=key, paid=True, actor=ADMIN, reference="WIRE-2026-118")
    large = await decisions.propose(
        session,
        report_id=waiting.id,
        assessment=Assessment("elevation_of_privilege", "critical", "medium", ("cross_tenant",)),
        actor=RESPONDER,
        settings=settings,
        now=context.now,
    )
    await decisions.submit(
        session, award_id=large.id, actor=RESPONDER, settings=settings, now=context.now
    )


async def seed_recognition(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    researcher = await users.get_user_by_email(session, email="researcher@vulnops.example")
    responder = await users.get_user_by_email(session, email=RESPONDER)
    ada = users.principal_of(researcher, via="session")
    staff = users.principal_of(responder, via="session")
    granted = await session.scalar(
        select(Report.id)
        .join(BountyAward, BountyAward.report_id == Report.id)
        .where(BountyAward.status == "approved")
        .order_by(Report.id)
        .limit(1)
    )
    if granted is not None:
        retest = await retests.request(
            session,
            principal=staff,
            report_id=granted,
            ask="The fix is live: check that the bypass is refused on every region.",
            settings=settings,
        )
        await retests.answer(
            session,
            principal=ada,
            retest_id=retest.id,
            outcome="fixed",
            note="Refused with 403 in all three regions.",
            settings=settings,
            now=context.now,
        )
    duplicate = await session.scalar(
        select(Report.id)
        .where(
            Report.reporter_id == researcher.id,
            Report.close_reason == CloseReason.DUPLICATE.value,
        )
        .order_by(Report.id)
        .limit(1)
    )
    if duplicate is not None:
        await disputes.open_dispute(
            session,
            principal=ada,
            report_id=duplicate,
            reason="This is not the same bug: the importer also follows redirects to internal "
            "addresses, which the first fix did not stop.",
            settings=settings,
            now=context.now,
        )
    await reputation.name_publicly(
        session, researcher_id=researcher.id, public_name="Ada L.", listed=True, now=context.now
    )
    while (await reputation.score(session)).events:
        pass
