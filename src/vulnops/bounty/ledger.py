"""The payout ledger: double-entry, append-only, every transaction idempotent by its key.

Accounts: ``programme:KEY`` (what a programme has given: it goes negative), ``researcher:ID``
(what is owed to the researcher and not yet asked for), ``in_flight:ID`` (payouts asked for,
not yet answered by the payment system) and ``paid_out``. Each transaction moves an amount between
two of them, so every transaction, and the whole ledger, sums to zero:

    award granted, bonus    programme -> researcher
    adjustment              programme <-> researcher (either sign)
    payout requested        researcher -> in flight      (never more than is owed)
    paid                    in flight -> paid out
    failed                  in flight -> researcher      (the money is owed again)
    reversed                paid out -> researcher       (a payment that came back)

A key posted again with the same content is the same transaction (nothing is written: paying
twice is impossible); with other content it is a conflict. Posts take a transaction-scoped lock
on their key, then on the researcher, in that order, so that two concurrent posts of one key,
or two payouts from one balance, cannot both pass their checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.bounty.models import BountyLedgerEntry
from vulnops.bounty.schemas import Balance, LedgerTransaction, Posting
from vulnops.bounty.tables import CURRENCIES, money
from vulnops.errors import Conflict, Invalid, NotFound

PAID_OUT = "paid_out"
SETTLEMENTS = ("paid", "failed")
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))")


def programme_account(key: str) -> str:
    return f"programme:{key}"


def researcher_account(researcher_id: int) -> str:
    return f"researcher:{researcher_id}"


def in_flight_account(researcher_id: int) -> str:
    return f"in_flight:{researcher_id}"


@dataclass(frozen=True)
class _Move:
    key: str
    kind: str
    researcher_id: int
    program: str
    currency: str
    amount: int
    source: str
    target: str
    actor: str
    reference: str = ""
    refers_to: str | None = None


def _check(move: _Move) -> None:
    if not 1 <= len(move.key) <= 200:
        raise Invalid("a transaction key has 1 to 200 characters")
    if move.currency not in CURRENCIES:
        raise Invalid(f"{move.currency!r} is not an ISO 4217 currency code")
    if move.amount <= 0:
        raise Invalid("an amount must be positive (a negative adjustment reverses the accounts)")
    if len(move.reference) > 500:
        raise Invalid("a reference has at most 500 characters")
    if len(move.program) > 100:
        raise Invalid("a programme key has at most 100 characters")


def _transaction(rows: Sequence[BountyLedgerEntry], *, replayed: bool) -> LedgerTransaction:
    first = rows[0]
    return LedgerTransaction(
        key=first.transaction_key,
        kind=first.kind,
        researcher_id=first.researcher_id,
        program=first.program,
        currency=first.currency,
        amount=abs(first.amount),
        refers_to=first.refers_to,
        reference=first.reference,
        actor=first.actor,
        created_at=first.created_at,
        lines=[Posting(account=r.account, amount=r.amount) for r in rows],
        replayed=replayed,
    )


async def _lines(session: AsyncSession, key: str) -> list[BountyLedgerEntry]:
    found = await session.scalars(
        select(BountyLedgerEntry)
        .where(BountyLedgerEntry.transaction_key == key)
        .order_by(BountyLedgerEntry.line)
    )
    return list(found)


def _same(rows: Sequence[BountyLedgerEntry], move: _Move) -> bool:
    wanted = [(move.source, -move.amount), (move.target, move.amount)]
    return [(r.account, r.amount) for r in rows] == wanted and {
        (r.kind, r.researcher_id, r.program, r.currency, r.refers_to) for r in rows
    } == {(move.kind, move.researcher_id, move.program, move.currency, move.refers_to)}


async def _account(session: AsyncSession, account: str, currency: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(BountyLedgerEntry.amount), 0)).where(
            BountyLedgerEntry.account == account, BountyLedgerEntry.currency == currency
        )
    )
    return int(total or 0)


async def _post(
    session: AsyncSession, move: _Move, *, limit: str | None = None
) -> LedgerTransaction:
    """Write ``move`` once. ``limit``: an account that must hold the amount before it leaves."""
    _check(move)
    await session.execute(_LOCK, {"name": f"bounty:key:{move.key}"})
    existing = await _lines(session, move.key)
    if existing:
        if not _same(existing, move):
            raise Conflict(
                f"the key {move.key!r} was used for another transaction ({existing[0].kind} of "
                f"{money(abs(existing[0].amount), existing[0].currency)}): nothing was written"
            )
        return _transaction(existing, replayed=True)
    await session.execute(_LOCK, {"name": f"bounty:researcher:{move.researcher_id}"})
    if limit is not None:
        held = await _account(session, limit, move.currency)
        if move.amount > held:
            raise Invalid(
                f"{money(move.amount, move.currency)} is more than the "
                f"{money(held, move.currency)} the account {limit} holds: nothing was written"
            )
    rows = [
        BountyLedgerEntry(
            transaction_key=move.key,
            line=line,
            kind=move.kind,
            account=account,
            researcher_id=move.researcher_id,
            program=move.program,
            amount=amount,
            currency=move.currency,
            refers_to=move.refers_to,
            reference=move.reference,
            actor=move.actor,
        )
        for line, (account, amount) in enumerate(
            [(move.source, -move.amount), (move.target, move.amount)]
        )
    ]
    session.add_all(rows)
    await session.flush()
    for row in rows:
        await session.refresh(row)
    return _transaction(rows, replayed=False)


async def grant(
    session: AsyncSession,
    *,
    key: str,
    researcher_id: int,
    program: str,
    amount: int,
    currency: str,
    actor: str,
    reference: str = "",
    bonus: bool = False,
) -> LedgerTransaction:
    """An award (or a bonus) from the programme to the researcher."""
    return await _post(
        session,
        _Move(
            key,
            "bonus" if bonus else "award_granted",
            researcher_id,
            program,
            currency,
            amount,
            programme_account(program),
            researcher_account(researcher_id),
            actor,
            reference,
        ),
    )


async def adjust(
    session: AsyncSession,
    *,
    key: str,
    researcher_id: int,
    program: str,
    amount: int,
    currency: str,
    actor: str,
    reason: str,
) -> LedgerTransaction:
    """Raise (amount > 0) or lower (amount < 0) what is owed, with the reason; a reduction
    never takes more than is owed and not yet asked for."""
    if amount == 0:
        raise Invalid("an adjustment moves a non-zero amount")
    if not reason.strip():
        raise Invalid("an adjustment needs its reason")
    owed, programme = researcher_account(researcher_id), programme_account(program)
    source, target = (programme, owed) if amount > 0 else (owed, programme)
    move = _Move(
        key,
        "adjustment",
        researcher_id,
        program,
        currency,
        abs(amount),
        source,
        target,
        actor,
        reason,
    )
    return await _post(session, move, limit=owed if amount < 0 else None)


async def request_payout(
    session: AsyncSession,
    *,
    key: str,
    researcher_id: int,
    program: str,
    amount: int,
    currency: str,
    actor: str,
    reference: str = "",
) -> LedgerTransaction:
    """Ask the payment system for ``amount``: it leaves what is owed, never more than that."""
    owed = researcher_account(researcher_id)
    move = _Move(
        key,
        "payout_requested",
        researcher_id,
        program,
        currency,
        amount,
        owed,
        in_flight_account(researcher_id),
        actor,
        reference,
    )
    return await _post(session, move, limit=owed)


async def _payout(session: AsyncSession, payout_key: str) -> LedgerTransaction:
    rows = await _lines(session, payout_key)
    if not rows or rows[0].kind != "payout_requested":
        raise NotFound(f"no payout {payout_key!r}")
    return _transaction(rows, replayed=False)


async def _answers(session: AsyncSession, payout_key: str) -> dict[str, str]:
    found = await session.execute(
        select(BountyLedgerEntry.kind, BountyLedgerEntry.transaction_key)
        .where(BountyLedgerEntry.refers_to == payout_key, BountyLedgerEntry.line == 0)
        .distinct()
    )
    return {str(kind): str(key) for kind, key in found.all()}


async def settle(
    session: AsyncSession, *, key: str, payout_key: str, paid: bool, actor: str, reference: str = ""
) -> LedgerTransaction:
    """The payment system's answer to a payout: paid, or failed (the amount is owed again)."""
    payout = await _payout(session, payout_key)
    kind = "paid" if paid else "failed"
    target = PAID_OUT if paid else researcher_account(payout.researcher_id)
    move = _Move(
        key,
        kind,
        payout.researcher_id,
        payout.program,
        payout.currency,
        payout.amount,
        in_flight_account(payout.researcher_id),
        target,
        actor,
        reference,
        payout_key,
    )
    await session.execute(_LOCK, {"name": f"bounty:key:{payout_key}"})
    answers = await _answers(session, payout_key)
    earlier = {k: v for k, v in answers.items() if k in SETTLEMENTS and v != key}
    if earlier:
        ((was, by),) = earlier.items()
        raise Conflict(f"payout {payout_key!r} was already answered: {was} ({by})")
    return await _post(session, move)


async def reverse(
    session: AsyncSession, *, key: str, payout_key: str, actor: str, reason: str
) -> LedgerTransaction:
    """A paid payout that came back: the amount is owed to the researcher again."""
    if not reason.strip():
        raise Invalid("a reversal needs its reason")
    payout = await _payout(session, payout_key)
    await session.execute(_LOCK, {"name": f"bounty:key:{payout_key}"})
    answers = await _answers(session, payout_key)
    if "paid" not in answers:
        raise Conflict(f"payout {payout_key!r} was not paid: there is nothing to reverse")
    if answers.get("reversed", key) != key:
        raise Conflict(f"payout {payout_key!r} was already reversed ({answers['reversed']})")
    move = _Move(
        key,
        "reversed",
        payout.researcher_id,
        payout.program,
        payout.currency,
        payout.amount,
        PAID_OUT,
        researcher_account(payout.researcher_id),
        actor,
        reason,
        payout_key,
    )
    return await _post(session, move)


async def balances(session: AsyncSession, *, researcher_id: int) -> list[Balance]:
    """What the researcher is owed, has in flight and was paid, per currency: one indexed query."""
    rows = await session.execute(
        select(
            BountyLedgerEntry.currency,
            BountyLedgerEntry.account,
            func.sum(BountyLedgerEntry.amount),
        )
        .where(BountyLedgerEntry.researcher_id == researcher_id)
        .group_by(BountyLedgerEntry.currency, BountyLedgerEntry.account)
    )
    by_currency: dict[str, dict[str, int]] = {}
    for currency, account, total in rows.all():
        by_currency.setdefault(currency, {})[account] = int(total)
    return [
        Balance(
            researcher_id=researcher_id,
            currency=currency,
            available=accounts.get(researcher_account(researcher_id), 0),
            in_flight=accounts.get(in_flight_account(researcher_id), 0),
            paid=accounts.get(PAID_OUT, 0),
        )
        for currency, accounts in sorted(by_currency.items())
    ]


async def balance(session: AsyncSession, *, researcher_id: int, currency: str) -> Balance:
    """The researcher's balance in one currency (zero where nothing moved)."""
    found = {b.currency: b for b in await balances(session, researcher_id=researcher_id)}
    return found.get(currency) or Balance(
        researcher_id=researcher_id, currency=currency, available=0, in_flight=0, paid=0
    )
