"""The demo's bounty: a programme with the default table, an award granted and paid (the payout
marked by hand), and a larger one waiting for an administrator's approval. The reports seeder's
duplicates (closed as duplicates of their case's first report) earn nothing by default."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.bounty import decisions, payouts, programs
from vulnops.bounty.awards import Assessment
from vulnops.bounty.tables import load_table
from vulnops.intake.models import Report
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
