"""The award proposal (pure): table, assessment, report quality, scenario, duplicates and eligible
programmes -> an amount and the reasons, which a person then adjusts (with a reason) and approves.

The rules, each as the anchors run them:
- The row of the programme's table for the assessed impact, severity and report quality; an
  ineligible combination earns nothing, and says so.
- A scenario bonus multiplies the row's amount: the largest one that applies (bonuses do not
  compound), and no award passes the table's maximum.
- The first-finder rule (MSRC since 2019): the first *external* reporter gets the full award even
  when the issue was already known internally (``AwardPolicy.pay_when_known_internally``); a later
  duplicate gets ``duplicate_share`` of it — 0 by default (Intigriti pays 20%, YesWeHack 25%).
- A report eligible for several programmes gets the largest single award, not their sum.
- Co-reporters split it by their shares, in whole minor units (largest remainder, ties to the
  earlier-named reporter), so the parts always add up to the award.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from vulnops.bounty.tables import AwardTable, TableError, money


@dataclass(frozen=True)
class AwardPolicy:
    pay_when_known_internally: bool = True
    duplicate_share: Fraction = Fraction(0)


@dataclass(frozen=True)
class Assessment:
    """What the reproduction found."""

    impact: str
    severity: str
    quality: str
    scenarios: tuple[str, ...] = ()


@dataclass(frozen=True)
class Standing:
    """Where the report stands among the reports of the same issue."""

    external_rank: int = 1  # 1: the first external report of it
    known_internally: bool = False


@dataclass(frozen=True)
class Candidate:
    """What one programme's table would pay."""

    table: str
    version: int
    amount: int  # minor units
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    amount: int  # minor units of ``currency``; 0 when nothing is due
    currency: str
    table: str | None  # the programme whose table pays, with its version
    version: int | None
    row: tuple[str, str, str]
    reasons: tuple[str, ...]
    split: dict[str, int] = field(default_factory=dict)  # reporter -> minor units
    candidates: tuple[Candidate, ...] = ()


def _candidate(table: AwardTable, assessment: Assessment) -> Candidate:
    row = table.amount(assessment.impact, assessment.severity, assessment.quality)
    where = f"{table.key} v{table.version}"
    if row is None:
        reason = f"{where}: {assessment.impact} at {assessment.severity} earns no award"
        return Candidate(table.key, table.version, 0, (reason,))
    reasons = [
        f"{where}: {assessment.impact}, {assessment.severity}, {assessment.quality}-quality"
        f" report: {money(row, table.currency)}"
    ]
    unknown = [s for s in assessment.scenarios if s not in table.scenarios]
    if unknown:
        raise TableError(f"table {table.key} has no scenario {', '.join(unknown)}")
    amount = row
    bonuses = [table.scenarios[s] for s in assessment.scenarios]
    if bonuses:
        best = max(bonuses, key=lambda s: s.multiplier)
        raised = (Decimal(row) * best.multiplier).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        amount = int(raised)
        bonus = f"scenario {best.key} ({best.description}): x{best.multiplier}"
        reasons.append(
            f"{bonus} = {money(amount, table.currency)}"
            + (" (the largest bonus that applies)" if len(bonuses) > 1 else "")
        )
    if amount > table.maximum:
        amount = table.maximum
        reasons.append(f"capped at the table's maximum, {money(amount, table.currency)}")
    return Candidate(table.key, table.version, amount, tuple(reasons))


def _standing(amount: int, standing: Standing, policy: AwardPolicy) -> tuple[int, list[str]]:
    if standing.external_rank < 1:
        raise ValueError("external_rank starts at 1")
    if standing.external_rank > 1:
        share = policy.duplicate_share
        paid = int(Fraction(amount) * share)
        return paid, [
            f"duplicate (external report number {standing.external_rank}): {float(share):.0%} of"
            " the first finder's award"
        ]
    if standing.known_internally and not policy.pay_when_known_internally:
        return 0, ["already known internally: the policy pays the first finder nothing"]
    if standing.known_internally:
        return amount, ["already known internally: the first external reporter is paid in full"]
    return amount, []


def split(amount: int, shares: Mapping[str, Fraction]) -> dict[str, int]:
    """``amount`` in whole minor units by ``shares`` (which sum to 1), largest remainder first;
    a tie goes to the reporter named earlier."""
    if not shares:
        raise ValueError("an award needs at least one reporter")
    if any(share <= 0 for share in shares.values()) or sum(shares.values()) != 1:
        raise ValueError("the reporters' shares must be positive and add up to 1")
    exact = {who: Fraction(amount) * share for who, share in shares.items()}
    parts = {who: int(value) for who, value in exact.items()}
    left = amount - sum(parts.values())
    order = sorted(exact, key=lambda who: (-(exact[who] - parts[who]), list(shares).index(who)))
    for who in order[:left]:
        parts[who] += 1
    return parts


def propose(
    tables: Sequence[AwardTable],
    assessment: Assessment,
    *,
    shares: Mapping[str, Fraction],
    standing: Standing = Standing(),
    policy: AwardPolicy = AwardPolicy(),
) -> Proposal:
    """The proposal for a report eligible for ``tables`` (its programmes' tables)."""
    if not tables:
        raise ValueError("the report is in no programme's scope: no award is due")
    currencies = {table.currency for table in tables}
    if len(currencies) > 1:
        raise TableError(
            "the eligible programmes pay in different currencies: " + ", ".join(sorted(currencies))
        )
    candidates = tuple(_candidate(table, assessment) for table in tables)
    best = max(candidates, key=lambda c: c.amount)
    table = next(t for t in tables if t.key == best.table)
    reasons = list(best.reasons)
    if len(candidates) > 1:
        others = ", ".join(
            f"{c.table} {money(c.amount, table.currency)}" for c in candidates if c != best
        )
        reasons.append(f"eligible for {len(candidates)} programmes: the largest award ({others})")
    amount, why = _standing(best.amount, standing, policy)
    reasons += why
    if amount and len(shares) > 1:
        reasons.append(
            "split between "
            + ", ".join(f"{who} {float(share):.0%}" for who, share in shares.items())
        )
    return Proposal(
        amount=amount,
        currency=table.currency,
        table=best.table if best.amount else None,
        version=best.version if best.amount else None,
        row=(assessment.impact, assessment.severity, assessment.quality),
        reasons=tuple(reasons),
        split=split(amount, shares),
        candidates=candidates,
    )
