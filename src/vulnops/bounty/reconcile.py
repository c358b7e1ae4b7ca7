"""Reconciling the payout ledger: the whole of it checked in set-based queries (``vulnops bounty
reconcile``), so that a line written past the service, or a bug in it, is found."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.bounty.schemas import CurrencyTotals, Reconciliation

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
