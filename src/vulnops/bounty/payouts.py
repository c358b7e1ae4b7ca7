"""Payouts: a researcher's payee profile, a payout asked for from what they are owed, sent through
a payout backend and answered into the ledger; and the payouts for finance as CSV. Callers commit.

The ledger records the request before anything is sent, and the answer after; sending again a
payout that has no answer (a worker that died after asking) posts the same ``webhook-id``, so the
payment system pays it once.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from babel import Locale
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import service as users
from vulnops.bounty import ledger
from vulnops.bounty.backends import Answer, PayoutBackend, PayoutOrder
from vulnops.bounty.models import BountyLedgerEntry, BountyPayee
from vulnops.bounty.schemas import LedgerTransaction
from vulnops.bounty.tables import minor_to_major
from vulnops.db.database import raw_connection
from vulnops.db.pagination import MAX_PER_PAGE, Page
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.jobcontext import bound

COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code != "ZZ"
)
# What a bank account or card number looks like: an IBAN, or a long run of digits.
_BANK_NUMBER = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b|\d[\d -]{10,}\d")


async def set_payee(
    session: AsyncSession,
    *,
    researcher_id: int,
    payment_reference: str,
    country: str,
    tax_form_received: bool,
    actor: str,
    now: datetime,
) -> BountyPayee:
    """Where the researcher is paid. The reference names their record in the payment system;
    a bank or card number is refused: vulnops never stores one."""
    reference = payment_reference.strip()
    if not 1 <= len(reference) <= 200:
        raise Invalid("payment_reference: 1 to 200 characters")
    if _BANK_NUMBER.search(reference.upper().replace(" ", "")) or _BANK_NUMBER.search(reference):
        raise Invalid(
            "payment_reference: this looks like a bank account or card number; give the "
            "reference of the researcher's record in the payment system instead"
        )
    if country.upper() not in COUNTRIES:
        raise Invalid(f"country: {country!r} is not an ISO 3166 country code")
    await users.get_user(session, user_id=researcher_id)  # NotFound: no such researcher
    payee = await session.get(BountyPayee, researcher_id)
    if payee is None:
        payee = BountyPayee(researcher_id=researcher_id)
        session.add(payee)
    payee.payment_reference, payee.country = reference, country.upper()
    payee.tax_form_received, payee.updated_at = tax_form_received, now
    await session.flush()
    await audit.record(
        session,
        subject=f"user:{researcher_id}",
        kind="bounty.payee_set",
        actor=actor,
        data={"country": payee.country, "tax_form_received": tax_form_received},
    )
    return payee


async def ask(
    session: AsyncSession,
    *,
    key: str,
    researcher_id: int,
    amount: int,
    currency: str,
    actor: str,
) -> LedgerTransaction:
    """Ask for a payout of ``amount``: the researcher needs a payee profile with the tax form
    received, and may not ask for more than they are owed. The payout is sent by a job
    deferred in the caller's transaction (:mod:`vulnops.bounty.tasks`)."""
    from vulnops.bounty.tasks import send_payout  # noqa: PLC0415 - the task imports this module

    payee = await session.get(BountyPayee, researcher_id)
    if payee is None:
        raise Invalid("the researcher has no payee profile: say where they are paid first")
    if not payee.tax_form_received:
        raise Invalid("the researcher's tax form has not been received: no payout yet")
    asked = await ledger.request_payout(
        session,
        key=key,
        researcher_id=researcher_id,
        program="",
        amount=amount,
        currency=currency,
        actor=actor,
        reference=payee.payment_reference,
    )
    if not asked.replayed:
        connection = await raw_connection(session)
        await bound(send_payout).configure(connection=connection).defer_async(payout_key=key)
    return asked


async def send(
    session: AsyncSession, *, payout_key: str, backend: PayoutBackend, actor: str
) -> Answer:
    """Send an unanswered payout through ``backend`` and record its answer (``accepted``:
    the answer comes later, through :func:`mark`)."""
    rows = await session.scalars(
        select(BountyLedgerEntry).where(
            BountyLedgerEntry.transaction_key == payout_key,
            BountyLedgerEntry.kind == "payout_requested",
        )
    )
    first = next(iter(rows), None)
    if first is None:
        raise NotFound(f"no payout {payout_key!r}")
    answered = await session.scalar(
        select(BountyLedgerEntry.kind).where(
            BountyLedgerEntry.refers_to == payout_key,
            BountyLedgerEntry.kind.in_(("paid", "failed")),
        )
    )
    if answered is not None:
        raise Conflict(f"payout {payout_key!r} was already answered: {answered}")
    payee = await session.get(BountyPayee, first.researcher_id)
    assert payee is not None  # asked for with one; a payee profile is never removed alone
    order = PayoutOrder(
        key=payout_key,
        researcher_id=first.researcher_id,
        amount=abs(first.amount),
        currency=first.currency,
        payment_reference=payee.payment_reference,
        country=payee.country,
    )
    answer = await backend.send(order)
    if answer.status != "accepted":
        await mark(
            session,
            payout_key=payout_key,
            paid=answer.status == "paid",
            actor=f"{actor} via {backend.name}",
            reference=answer.reference,
        )
    return answer


async def mark(
    session: AsyncSession, *, payout_key: str, paid: bool, actor: str, reference: str
) -> LedgerTransaction:
    """The payment system's answer (or finance's, paying by hand), with its reference."""
    if paid and not reference.strip():
        raise Invalid("reference: a paid payout needs the payment system's reference")
    outcome = "paid" if paid else "failed"
    return await ledger.settle(
        session,
        key=f"{payout_key}:{outcome}",
        payout_key=payout_key,
        paid=paid,
        actor=actor,
        reference=reference.strip(),
    )


class PayoutRow(BaseModel):
    key: str
    researcher_id: int
    researcher: str  # the account's email
    amount: int  # minor units
    currency: str
    requested_at: datetime
    status: str  # requested, paid or failed
    reference: str  # the payment system's, once answered
    answered_at: datetime | None


_PAYOUTS = """
FROM bounty_ledger_entries p
JOIN users u ON u.id = p.researcher_id
LEFT JOIN bounty_ledger_entries a
       ON a.refers_to = p.transaction_key AND a.line = 0 AND a.kind IN ('paid', 'failed')
WHERE p.kind = 'payout_requested' AND p.line = 0
  AND (CAST(:researcher AS bigint) IS NULL OR p.researcher_id = :researcher)
  AND (CAST(:unanswered AS boolean) IS NOT TRUE OR a.kind IS NULL)
"""
_LIST = (
    "SELECT p.transaction_key AS key, p.researcher_id, u.email AS researcher, "
    "-p.amount AS amount, p.currency, p.created_at AS requested_at, "
    "coalesce(a.kind, 'requested') AS status, coalesce(a.reference, '') AS reference, "
    "a.created_at AS answered_at"
    + _PAYOUTS
    + "ORDER BY p.created_at DESC, p.transaction_key LIMIT :limit OFFSET :offset"
)


async def list_payouts(
    session: AsyncSession,
    *,
    page: int,
    per_page: int = 50,
    researcher_id: int | None = None,
    unanswered: bool = False,
) -> Page[PayoutRow]:
    """Payouts, newest first, with their answers (``unanswered``: only those waiting)."""
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    where = {"researcher": researcher_id, "unanswered": unanswered}
    total = await session.scalar(text("SELECT count(*)" + _PAYOUTS), where)
    rows = await session.execute(
        text(_LIST), {**where, "limit": per_page, "offset": (page - 1) * per_page}
    )
    items = [PayoutRow.model_validate(dict(row)) for row in rows.mappings()]
    return Page(items, int(total or 0), page, per_page)


_EXPORT = """
SELECT p.transaction_key, p.researcher_id, u.email, -p.amount AS amount, p.currency,
       p.reference, p.created_at, a.kind AS answer, a.reference AS answer_reference,
       a.created_at AS answered_at, y.country, y.tax_form_received
FROM bounty_ledger_entries p
JOIN users u ON u.id = p.researcher_id
LEFT JOIN bounty_ledger_entries a
       ON a.refers_to = p.transaction_key AND a.line = 0 AND a.kind IN ('paid', 'failed')
LEFT JOIN bounty_payees y ON y.researcher_id = p.researcher_id
WHERE p.kind = 'payout_requested' AND p.line = 0 AND p.created_at >= :since
ORDER BY p.created_at, p.transaction_key
"""
COLUMNS = (
    "payout",
    "researcher_id",
    "researcher_email",
    "amount",
    "currency",
    "payment_reference",
    "country",
    "tax_form_received",
    "requested_at",
    "status",
    "payment_system_reference",
    "answered_at",
)


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) kept as text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def export_csv(session: AsyncSession, *, since: datetime) -> str:
    """Every payout asked for since ``since``, with its answer: the file finance imports. The
    amount is in major units (``1250.00``), its currency beside it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in (await session.execute(text(_EXPORT), {"since": since})).mappings():
        writer.writerow(
            [
                _cell(row["transaction_key"]),
                row["researcher_id"],
                _cell(row["email"]),
                f"{minor_to_major(int(row['amount']), row['currency']):f}",
                row["currency"],
                _cell(row["reference"]),
                row["country"] or "",
                "yes" if row["tax_form_received"] else "no",
                row["created_at"].isoformat(),
                row["answer"] or "requested",
                _cell(row["answer_reference"] or ""),
                row["answered_at"].isoformat() if row["answered_at"] else "",
            ]
        )
    return out.getvalue()
