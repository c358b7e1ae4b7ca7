"""JSON API of the bounty's finance: payee profiles, payouts and their answers, the export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from vulnops.auth.deps import require
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Permission, allowed
from vulnops.bounty import payouts
from vulnops.bounty.api import In, now
from vulnops.bounty.schemas import LedgerTransaction
from vulnops.db.bounded import Flag, Id, Text
from vulnops.db.deps import SessionDep

router = APIRouter(prefix="/api/bounty", tags=["bounty"])
FINANCE = allowed(Permission.BOUNTY_FINANCE)


class PayeeIn(In):
    payment_reference: Text = Field(min_length=1, max_length=200)
    country: Text = Field(min_length=2, max_length=2)
    tax_form_received: Flag = False


class PayoutIn(In):
    key: Text = Field(min_length=1, max_length=200)
    researcher_id: Id
    amount: int = Field(gt=0, le=10**15)
    currency: Text = Field(min_length=3, max_length=3)


class MarkIn(In):
    paid: Flag
    reference: Text = Field(default="", max_length=500)


@router.put("/payees/{researcher_id}")
async def set_payee(
    researcher_id: Id, data: PayeeIn, session: SessionDep, principal: Principal = require(FINANCE)
) -> dict[str, Any]:
    """Where a researcher is paid (a payment-system reference: never a bank number)."""
    payee = await payouts.set_payee(
        session,
        researcher_id=researcher_id,
        payment_reference=data.payment_reference,
        country=data.country,
        tax_form_received=data.tax_form_received,
        actor=principal.email,
        now=now(),
    )
    await session.commit()
    return {
        "researcher_id": researcher_id,
        "country": payee.country,
        "tax_form_received": payee.tax_form_received,
    }


@router.post("/payouts", status_code=201)
async def ask_payout(
    data: PayoutIn, session: SessionDep, principal: Principal = require(FINANCE)
) -> LedgerTransaction:
    """Ask for a payout (idempotent by its key: asking again is the same payout)."""
    asked = await payouts.ask(
        session,
        key=data.key,
        researcher_id=data.researcher_id,
        amount=data.amount,
        currency=data.currency.upper(),
        actor=principal.email,
    )
    await session.commit()
    return asked


@router.post("/payouts/{payout_key}/mark")
async def mark_payout(
    payout_key: Text, data: MarkIn, session: SessionDep, principal: Principal = require(FINANCE)
) -> LedgerTransaction:
    """The payment system's answer: paid (with its reference) or failed."""
    marked = await payouts.mark(
        session,
        payout_key=payout_key,
        paid=data.paid,
        actor=principal.email,
        reference=data.reference,
    )
    await session.commit()
    return marked


@router.get("/payouts.csv", responses={200: {"content": {"text/csv": {}}}})
async def export_payouts(
    session: SessionDep, since: datetime | None = None, principal: Principal = require(FINANCE)
) -> Response:
    """The payouts asked for since ``since`` (default: all), with their answers, as CSV."""
    text = await payouts.export_csv(session, since=since or datetime(1970, 1, 1, tzinfo=UTC))
    return Response(
        text,
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="payouts.csv"'},
    )
