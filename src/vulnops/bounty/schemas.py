"""The bounty's read models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Posting(BaseModel):
    account: str
    amount: int  # minor units, + into the account


class LedgerTransaction(BaseModel):
    key: str
    kind: str
    researcher_id: int
    program: str
    currency: str
    amount: int  # what moved, positive (an adjustment keeps its sign)
    refers_to: str | None
    reference: str
    actor: str
    created_at: datetime
    lines: list[Posting]
    replayed: bool = False  # the same key posted again: nothing new was written


class Balance(BaseModel):
    researcher_id: int
    currency: str
    available: int  # awarded and not yet asked for
    in_flight: int  # payouts asked for, not yet answered
    paid: int  # paid out, net of reversals


class CurrencyTotals(BaseModel):
    currency: str
    programmes: int  # what the programmes gave (negative)
    owed: int
    in_flight: int
    paid_out: int


class Reconciliation(BaseModel):
    ok: bool
    transactions: int
    entries: int
    totals: list[CurrencyTotals]
    problems: list[str]


class ProgramView(BaseModel):
    key: str
    name: str
    rules: str
    services: list[str]  # empty: every service
    out_of_scope: list[str]
    table_key: str
    table_version: int
    currency: str
    starts_at: datetime
    ends_at: datetime | None


class AwardView(BaseModel):
    id: int
    report_id: int
    program: str
    status: str
    proposed_amount: int
    amount: int
    currency: str
    impact: str  # the table's row: impact, severity, report quality
    severity: str
    quality: str
    scenarios: list[str]
    reasons: list[str]
    adjustment_reason: str | None
    split: dict[int, int]  # researcher id -> minor units
    table_version: int
    proposed_by: str
    decided_by: str | None
    decided_at: datetime | None


class ListedAward(BaseModel):
    award: AwardView
    tracking_id: str  # its report's
    title: str


class DisputeView(BaseModel):
    id: int
    report_id: int
    about: str
    reason: str
    status: str
    due_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


class RetestView(BaseModel):
    id: int
    report_id: int
    researcher_id: int
    program: str
    status: str
    amount: int  # minor units, paid once answered fixed or not fixed
    currency: str
    ask: str
    answer: str | None
    requested_by: str
    requested_at: datetime
    completed_at: datetime | None
