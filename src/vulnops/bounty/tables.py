"""Award tables as data (pure): security impact x severity x report quality -> an amount, with
scenario bonuses, a minimum and a maximum, and the combinations that earn nothing.

A table is YAML (``default_table.yaml`` has the shape of MSRC's cloud programme: Critical and
Important only, three report qualities, bonuses of +20% to +50% for high-impact scenarios). Amounts
are written in the currency's major units and kept as integers of its minor units (ISO 4217's
exponent, from Babel's CLDR data: 2 for USD, 0 for JPY), so no amount is ever a float. Every
combination of impact and severity is either one row or listed ineligible — a gap or an overlap
is an error, not a silent zero. A table has a key and a version: the version in force is
snapshotted onto each award, so changing a table never changes a past award.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from babel.numbers import format_currency, get_currency_precision, list_currencies
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_TABLE_FILE = Path(__file__).with_name("default_table.yaml")
CURRENCIES = frozenset(list_currencies())


class TableError(ValueError):
    """A table that cannot be used, and why (shown to the person who wrote it)."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    impact: str
    severity: str
    amounts: dict[str, Decimal]  # quality -> amount, in major units


class _Combination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    impact: str
    severity: str


class _Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    multiplier: Decimal = Field(gt=0)
    description: str = ""


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    name: str = ""
    currency: str
    minimum: Decimal
    maximum: Decimal
    impacts: list[str] = Field(min_length=1)
    severities: list[str] = Field(min_length=1)
    qualities: list[str] = Field(min_length=1)
    rows: list[_Row]
    ineligible: list[_Combination] = []
    scenarios: dict[str, _Scenario] = {}
    # What a retest the team asks for pays (0: retests are not paid), and the amount above
    # which an award needs a second person (absent: the platform's setting).
    retest: Decimal = Decimal(0)
    approval_above: Decimal | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    multiplier: Decimal
    description: str


class AwardTable(BaseModel):
    """A checked table: every amount in minor units of ``currency``."""

    model_config = ConfigDict(frozen=True)

    key: str
    version: int
    name: str
    currency: str
    exponent: int  # minor units per major unit: 10**exponent
    minimum: int
    maximum: int
    impacts: tuple[str, ...]
    severities: tuple[str, ...]  # most severe first
    qualities: tuple[str, ...]  # best first
    amounts: dict[tuple[str, str, str], int]  # (impact, severity, quality) -> minor units
    ineligible: frozenset[tuple[str, str]]
    scenarios: dict[str, Scenario]
    retest: int  # minor units
    approval_above: int | None  # minor units
    document: dict[str, Any]  # what was loaded, as it was: the snapshot an award keeps

    def amount(self, impact: str, severity: str, quality: str) -> int | None:
        """The row's amount; None for an ineligible combination."""
        if (impact, severity) in self.ineligible:
            return None
        try:
            return self.amounts[impact, severity, quality]
        except KeyError:
            raise TableError(
                f"table {self.key} has no impact {impact!r}, severity {severity!r} or quality"
                f" {quality!r}"
            ) from None


def minor_to_major(amount: int, currency: str) -> Decimal:
    """Minor units (cents) as the currency's major units (dollars)."""
    return Decimal(amount).scaleb(-int(get_currency_precision(currency)))


def money(amount: int, currency: str) -> str:
    """An amount in minor units as people read it ("$1,250.00")."""
    return str(format_currency(minor_to_major(amount, currency), currency, locale="en_US"))


def _minor(value: Decimal, exponent: int, what: str) -> int:
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise TableError(f"{what}: {value} is finer than the currency's minor unit")
    if scaled < 0:
        raise TableError(f"{what}: {value} is negative")
    return int(scaled)


def _check_names(document: _Document) -> None:
    for field in ("impacts", "severities", "qualities"):
        names: list[str] = getattr(document, field)
        if len(set(names)) != len(names):
            raise TableError(f"{field} lists a name twice")
    for scenario in document.scenarios:
        if not scenario:
            raise TableError("a scenario needs a key")


def _cells(document: _Document) -> tuple[dict[tuple[str, str], _Row], set[tuple[str, str]]]:
    impacts, severities = set(document.impacts), set(document.severities)
    rows: dict[tuple[str, str], _Row] = {}
    for row in document.rows:
        cell = (row.impact, row.severity)
        if row.impact not in impacts or row.severity not in severities:
            raise TableError(f"row {cell}: impact and severity must be among those listed")
        if cell in rows:
            raise TableError(f"two rows for impact {row.impact}, severity {row.severity}")
        rows[cell] = row
    ineligible = set()
    for combination in document.ineligible:
        cell = (combination.impact, combination.severity)
        if cell in rows:
            raise TableError(
                f"impact {cell[0]}, severity {cell[1]} is both a row and listed ineligible"
            )
        if combination.impact not in impacts or combination.severity not in severities:
            raise TableError(f"ineligible {cell}: impact and severity must be among those listed")
        ineligible.add(cell)
    for impact in document.impacts:
        for severity in document.severities:
            if (impact, severity) not in rows and (impact, severity) not in ineligible:
                raise TableError(
                    f"no row for impact {impact}, severity {severity}, and it is not listed"
                    " ineligible"
                )
    return rows, ineligible


def parse_table(raw: Any, *, source: str = "table") -> AwardTable:
    """A table from its YAML document, or ``TableError`` saying what is wrong."""
    try:
        document = _Document.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise TableError(f"{source}: {where}: {first['msg']}") from None
    except (InvalidOperation, TypeError) as error:
        raise TableError(f"{source}: {error}") from None
    if document.currency not in CURRENCIES:
        raise TableError(f"{source}: {document.currency!r} is not an ISO 4217 currency code")
    exponent = int(get_currency_precision(document.currency))
    _check_names(document)
    rows, ineligible = _cells(document)
    minimum = _minor(document.minimum, exponent, "minimum")
    maximum = _minor(document.maximum, exponent, "maximum")
    if minimum > maximum:
        raise TableError(f"{source}: the minimum is above the maximum")
    amounts: dict[tuple[str, str, str], int] = {}
    for (impact, severity), row in rows.items():
        if set(row.amounts) != set(document.qualities):
            raise TableError(
                f"{source}: row {impact}/{severity} must give an amount for each quality: "
                + ", ".join(document.qualities)
            )
        for quality, value in row.amounts.items():
            what = f"{source}: {impact}/{severity}/{quality}"
            amount = _minor(value, exponent, what)
            if not minimum <= amount <= maximum:
                raise TableError(f"{what}: {value} is outside the table's bounds")
            amounts[impact, severity, quality] = amount
    _check_monotone(document, amounts, source)
    return AwardTable(
        key=document.key,
        version=document.version,
        name=document.name or document.key,
        currency=document.currency,
        exponent=exponent,
        minimum=minimum,
        maximum=maximum,
        impacts=tuple(document.impacts),
        severities=tuple(document.severities),
        qualities=tuple(document.qualities),
        amounts=amounts,
        ineligible=frozenset(ineligible),
        scenarios={
            key: Scenario(key=key, multiplier=s.multiplier, description=s.description)
            for key, s in document.scenarios.items()
        },
        retest=_minor(document.retest, exponent, "retest"),
        approval_above=(
            None
            if document.approval_above is None
            else _minor(document.approval_above, exponent, "approval_above")
        ),
        document=raw,
    )


def _check_monotone(
    document: _Document, amounts: dict[tuple[str, str, str], int], source: str
) -> None:
    """A better report, or a more severe issue, never pays less (the lists run best first)."""
    for impact in document.impacts:
        for severity in document.severities:
            row = [amounts.get((impact, severity, q)) for q in document.qualities]
            known = [a for a in row if a is not None]
            if known != sorted(known, reverse=True):
                raise TableError(
                    f"{source}: {impact}/{severity}: a lower quality pays more than a higher one"
                )
        for quality in document.qualities:
            column = [amounts.get((impact, s, quality)) for s in document.severities]
            known = [a for a in column if a is not None]
            if known != sorted(known, reverse=True):
                raise TableError(
                    f"{source}: {impact}/{quality}: a lower severity pays more than a higher one"
                )


def load_table(path: Path | None = None) -> AwardTable:
    source = path or DEFAULT_TABLE_FILE
    try:
        raw = yaml.safe_load(source.read_text())
    except yaml.YAMLError as error:
        raise TableError(f"{source}: not valid YAML: {error}") from None
    return parse_table(raw, source=str(source))
