"""The payout ledger on PostgreSQL: double-entry and append-only, idempotent by key, never paying
more than is owed, and a reconciliation that finds what does not add up."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from helpers import MakeUser
from vulnops.auth.roles import Role
from vulnops.bounty import ledger, reconcile
from vulnops.bounty.schemas import LedgerTransaction
from vulnops.db.database import Database
from vulnops.errors import Conflict, Invalid, NotFound

USD = "USD"


async def _researcher(make_user: MakeUser) -> int:
    user = await make_user(Role.RESEARCHER)
    return int(user.id)


async def _grant(s: AsyncSession, ada: int, key: str, amount: int) -> LedgerTransaction:
    return await ledger.grant(
        s, key=key, researcher_id=ada, program="cloud", amount=amount, currency=USD, actor="staff"
    )


async def _pay(
    s: AsyncSession, ada: int, key: str, amount: int, currency: str = USD
) -> LedgerTransaction:
    return await ledger.request_payout(
        s,
        key=key,
        researcher_id=ada,
        program="cloud",
        amount=amount,
        currency=currency,
        actor="finance",
    )


async def test_an_award_a_payout_and_its_answer_move_the_balance(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _researcher(make_user)
    async with db.session() as s:
        award = await ledger.grant(
            s,
            key="award:1",
            researcher_id=ada,
            program="cloud",
            amount=20_000_00,
            currency=USD,
            actor="staff@example.com",
        )
        assert [(p.account, p.amount) for p in award.lines] == [
            ("programme:cloud", -20_000_00),
            (f"researcher:{ada}", 20_000_00),
        ]
        await ledger.request_payout(
            s,
            key="payout:1",
            researcher_id=ada,
            program="cloud",
            amount=15_000_00,
            currency=USD,
            actor="finance@example.com",
        )
        middle = await ledger.balance(s, researcher_id=ada, currency=USD)
        assert (middle.available, middle.in_flight, middle.paid) == (5_000_00, 15_000_00, 0)
        await ledger.settle(s, key="paid:1", payout_key="payout:1", paid=True, actor="backend")
        done = await ledger.balance(s, researcher_id=ada, currency=USD)
        assert (done.available, done.in_flight, done.paid) == (5_000_00, 0, 15_000_00)
        check = await reconcile.reconcile(s)
        assert check.ok and check.transactions == 3 and check.entries == 6
        assert [(t.programmes, t.owed, t.in_flight, t.paid_out) for t in check.totals] == [
            (-20_000_00, 5_000_00, 0, 15_000_00)
        ]
        await s.commit()


async def test_a_repeated_key_is_one_transaction_and_another_amount_is_a_conflict(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _researcher(make_user)
    async with db.session() as s:
        await _grant(s, ada, "award:1", 10_000_00)
        first = await _pay(s, ada, "pay:1", 4_000_00)
        again = await _pay(s, ada, "pay:1", 4_000_00)
        assert again.replayed and not first.replayed and again.lines == first.lines
        with pytest.raises(Conflict, match="was used for another transaction"):
            await _pay(s, ada, "pay:1", 5_000_00)
        assert (await ledger.balance(s, researcher_id=ada, currency=USD)).in_flight == 4_000_00
        await ledger.settle(s, key="paid:1", payout_key="pay:1", paid=True, actor="backend")
        assert (
            await ledger.settle(s, key="paid:1", payout_key="pay:1", paid=True, actor="backend")
        ).replayed
        with pytest.raises(Conflict, match="already answered: paid"):
            await ledger.settle(s, key="failed:1", payout_key="pay:1", paid=False, actor="backend")
        assert (await reconcile.reconcile(s)).ok


async def test_two_concurrent_payouts_cannot_both_spend_one_balance(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _researcher(make_user)
    async with db.session() as s:
        await ledger.grant(
            s,
            key="award:1",
            researcher_id=ada,
            program="cloud",
            amount=10_000_00,
            currency=USD,
            actor="staff",
        )
        await s.commit()

    async def pay(key: str) -> str:
        async with db.session() as s:
            try:
                await ledger.request_payout(
                    s,
                    key=key,
                    researcher_id=ada,
                    program="cloud",
                    amount=8_000_00,
                    currency=USD,
                    actor="finance",
                )
            except Invalid as error:
                return str(error)
            await asyncio.sleep(0.05)  # hold the lock: the other one must wait, then see it
            await s.commit()
            return "paid"

    results = sorted(await asyncio.gather(pay("pay:a"), pay("pay:b")))
    assert results[1] == "paid" and "more than the $2,000.00" in results[0]
    async with db.session() as s:
        assert (await ledger.balance(s, researcher_id=ada, currency=USD)).available == 2_000_00
        assert (await reconcile.reconcile(s)).ok


async def test_a_failed_payout_is_owed_again_and_a_reversal_restores_the_balance(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _researcher(make_user)
    async with db.session() as s:
        await _grant(s, ada, "award:1", 3_000_00)
        await _pay(s, ada, "pay:1", 3_000_00)
        await ledger.settle(s, key="failed:1", payout_key="pay:1", paid=False, actor="backend")
        assert (await ledger.balance(s, researcher_id=ada, currency=USD)).available == 3_000_00
        await _pay(s, ada, "pay:2", 3_000_00)
        await ledger.settle(s, key="paid:2", payout_key="pay:2", paid=True, actor="backend")
        with pytest.raises(Conflict, match="was not paid"):
            await ledger.reverse(s, key="rev:1", payout_key="pay:1", actor="finance", reason="x")
        await ledger.reverse(s, key="rev:2", payout_key="pay:2", actor="finance", reason="bounced")
        back = await ledger.balance(s, researcher_id=ada, currency=USD)
        assert (back.available, back.in_flight, back.paid) == (3_000_00, 0, 0)
        with pytest.raises(Conflict, match="already reversed"):
            await ledger.reverse(s, key="rev:3", payout_key="pay:2", actor="finance", reason="x")
        assert (await reconcile.reconcile(s)).ok


async def test_bad_input_is_refused_and_nothing_is_written(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _researcher(make_user)
    async with db.session() as s:
        with pytest.raises(Invalid, match="not an ISO 4217"):
            await _pay(s, ada, "p", 100, currency="DOLLARS")
        with pytest.raises(Invalid, match="must be positive"):
            await _grant(s, ada, "a", -100)
        with pytest.raises(Invalid, match=r"more than the \$0.00"):
            await _pay(s, ada, "p", 100)

        async def adjust(reason: str) -> None:
            await ledger.adjust(
                s,
                key="j",
                researcher_id=ada,
                program="cloud",
                amount=-5,
                currency=USD,
                actor="staff",
                reason=reason,
            )

        with pytest.raises(Invalid, match="needs its reason"):
            await adjust(" ")
        with pytest.raises(Invalid, match="more than"):
            await adjust("typo")
        with pytest.raises(NotFound):
            await ledger.settle(s, key="x", payout_key="nope", paid=True, actor="backend")
        check = await reconcile.reconcile(s)
        assert check.ok and check.entries == 0


async def test_the_ledger_is_append_only_and_reconcile_finds_a_forged_line(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _researcher(make_user)
    async with db.session() as s:
        await ledger.grant(
            s,
            key="award:1",
            researcher_id=ada,
            program="cloud",
            amount=500_00,
            currency=USD,
            actor="staff",
        )
        await s.commit()
    for statement in (
        "UPDATE bounty_ledger_entries SET amount = 1",
        "DELETE FROM bounty_ledger_entries",
        "TRUNCATE bounty_ledger_entries",
    ):
        async with db.session() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(statement))
    async with db.session() as s:  # a line written past the service: one-sided, overdrawn
        await s.execute(
            text(
                "INSERT INTO bounty_ledger_entries (transaction_key, line, kind, account,"
                " researcher_id, program, amount, currency, actor) VALUES ('forged', 0,"
                " 'payout_requested', :account, :ada, 'cloud', -90000, 'USD', 'mallory')"
            ),
            {"account": f"researcher:{ada}", "ada": ada},
        )
        check = await reconcile.reconcile(s)
        assert not check.ok
        assert "transaction forged does not sum to zero" in check.problems
        assert f"account researcher:{ada} is negative in USD" in check.problems
        assert "the accounts in USD do not sum to zero" in check.problems
