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
from vulnops.bounty.schemas import (
    Balance,
    CurrencyTotals,
    LedgerTransaction,
    Posting,
    Reconciliation,
)
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


async def balance(session: AsyncSession, *, researcher_id: int, currency: str) -> Balance:
    """What the researcher is owed, has in flight and was paid, in one indexed query."""
    rows = await session.execute(
        select(BountyLedgerEntry.account, func.sum(BountyLedgerEntry.amount))
        .where(
            BountyLedgerEntry.researcher_id == researcher_id,
            BountyLedgerEntry.currency == currency,
        )
        .group_by(BountyLedgerEntry.account)
    )
    by_account = {account: int(total) for account, total in rows.all()}
    return Balance(
        researcher_id=researcher_id,
        currency=currency,
        available=by_account.get(researcher_account(researcher_id), 0),
        in_flight=by_account.get(in_flight_account(researcher_id), 0),
        paid=by_account.get(PAID_OUT, 0),
    )


_PROBLEMS = text(
    """
    WITH transactions AS (
        SELECT transaction_key, sum(amount) AS total, count(*) AS lines,
               count(DISTINCT (kind, researcher_id, program, currency)) AS shapes
        FROM bounty_ledger_entries GROUP BY transaction_key
    ), accounts AS (
        SELECT account, currency, sum(amount) AS total FROM bounty_ledger_entries
        WHERE account LIKE 'researcher:%' OR account LIKE 'in_flight:%'
        GROUP BY account, currency
    ), answers AS (
        SELECT refers_to, kind, count(*) AS times FROM bounty_ledger_entries
        WHERE refers_to IS NOT NULL AND line = 0 GROUP BY refers_to, kind
    )
    SELECT 'transaction ' || transaction_key || ' does not sum to zero' FROM transactions
        WHERE total <> 0
    UNION ALL SELECT 'transaction ' || transaction_key || ' mixes kinds, researchers,'
        || ' programmes or currencies, or has not two lines' FROM transactions
        WHERE shapes <> 1 OR lines <> 2
    UNION ALL SELECT 'account ' || account || ' is negative in ' || currency FROM accounts
        WHERE total < 0
    UNION ALL SELECT 'payout ' || a.refers_to || ' was answered more than once' FROM answers a
        WHERE a.kind IN ('paid', 'failed')
        GROUP BY a.refers_to HAVING sum(a.times) > 1
    UNION ALL SELECT 'payout ' || refers_to || ' was reversed more than once' FROM answers
        WHERE kind = 'reversed' AND times > 1
    UNION ALL SELECT 'payout ' || a.refers_to || ' was reversed but never paid' FROM answers a
        WHERE a.kind = 'reversed'
          AND NOT EXISTS (SELECT 1 FROM answers p WHERE p.refers_to = a.refers_to
                          AND p.kind = 'paid')
    UNION ALL SELECT 'transaction ' || e.transaction_key || ' answers ' || e.refers_to
        || ', which is not a payout' FROM bounty_ledger_entries e
        WHERE e.refers_to IS NOT NULL AND e.line = 0 AND NOT EXISTS (
            SELECT 1 FROM bounty_ledger_entries p
            WHERE p.transaction_key = e.refers_to AND p.kind = 'payout_requested')
    LIMIT 100
    """
)

_TOTALS = text(
    """
    SELECT currency,
           sum(amount) FILTER (WHERE account LIKE 'programme:%') AS programmes,
           sum(amount) FILTER (WHERE account LIKE 'researcher:%') AS owed,
           sum(amount) FILTER (WHERE account LIKE 'in_flight:%') AS in_flight,
           sum(amount) FILTER (WHERE account = 'paid_out') AS paid_out,
           count(*) AS entries, count(DISTINCT transaction_key) AS transactions
    FROM bounty_ledger_entries GROUP BY currency ORDER BY currency
    """
)


async def reconcile(session: AsyncSession) -> Reconciliation:
    """Check the whole ledger in set-based queries: every transaction balanced and well formed,
    no researcher owed or in flight below zero, every payout answered at most once and reversed
    only when paid, and per currency the programmes, the researchers, what is in flight and what
    was paid summing to zero."""
    problems = [str(row[0]) for row in (await session.execute(_PROBLEMS)).all()]
    totals, entries, transactions = [], 0, 0
    for row in (await session.execute(_TOTALS)).mappings():
        figures = CurrencyTotals(
            currency=row["currency"],
            programmes=int(row["programmes"] or 0),
            owed=int(row["owed"] or 0),
            in_flight=int(row["in_flight"] or 0),
            paid_out=int(row["paid_out"] or 0),
        )
        if figures.programmes + figures.owed + figures.in_flight + figures.paid_out != 0:
            problems.append(f"the accounts in {figures.currency} do not sum to zero")
        totals.append(figures)
        entries += int(row["entries"])
        transactions += int(row["transactions"])
    return Reconciliation(
        ok=not problems,
        transactions=transactions,
        entries=entries,
        totals=totals,
        problems=problems,
    )
