"""The award tables and the award proposal (pure): the tables' checks, and the proposal's rules
property-tested over the default table — monotone in severity and quality, never outside the
table's bounds, the first-finder rule, duplicates, several programmes, splits that add up."""

from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vulnops.bounty.awards import Assessment, AwardPolicy, Standing, propose, split
from vulnops.bounty.tables import DEFAULT_TABLE_FILE, TableError, load_table, parse_table

TABLE = load_table()
RAW: dict[str, Any] = yaml.safe_load(DEFAULT_TABLE_FILE.read_text())
ONE = {"ada": Fraction(1)}

ASSESSMENTS = st.builds(
    Assessment,
    impact=st.sampled_from(TABLE.impacts),
    severity=st.sampled_from(TABLE.severities),
    quality=st.sampled_from(TABLE.qualities),
    scenarios=st.lists(st.sampled_from(sorted(TABLE.scenarios)), max_size=3, unique=True).map(
        tuple
    ),
)


def test_the_default_table_has_the_shape_of_a_cloud_programme() -> None:
    assert (TABLE.currency, TABLE.exponent) == ("USD", 2)
    assert TABLE.amount("remote_code_execution", "critical", "high") == 60_000_00
    assert TABLE.amount("security_feature_bypass", "important", "low") == 1_250_00
    assert TABLE.amount("denial_of_service", "critical", "high") is None
    assert all(TABLE.amount(i, "moderate", "high") is None for i in TABLE.impacts)
    assert TABLE.document == RAW  # what an award snapshots


@settings(max_examples=300)
@given(ASSESSMENTS)
def test_an_award_is_never_outside_the_tables_bounds(assessment: Assessment) -> None:
    proposal = propose([TABLE], assessment, shares=ONE)
    eligible = TABLE.amount(assessment.impact, assessment.severity, assessment.quality)
    if eligible is None:
        assert proposal.amount == 0 and proposal.table is None
    else:
        assert TABLE.minimum <= proposal.amount <= TABLE.maximum
        assert proposal.amount >= eligible  # a bonus never lowers it
        assert (proposal.table, proposal.version) == ("cloud", 1)
    assert proposal.split == {"ada": proposal.amount}


@settings(max_examples=300)
@given(ASSESSMENTS, st.data())
def test_more_severe_and_better_reports_never_earn_less(assessment: Assessment, data: Any) -> None:
    severity = data.draw(
        st.sampled_from(TABLE.severities[: TABLE.severities.index(assessment.severity) + 1])
    )
    quality = data.draw(
        st.sampled_from(TABLE.qualities[: TABLE.qualities.index(assessment.quality) + 1])
    )
    better = Assessment(assessment.impact, severity, quality, assessment.scenarios)
    assert (
        propose([TABLE], better, shares=ONE).amount
        >= propose([TABLE], assessment, shares=ONE).amount
    )


def test_the_largest_bonus_applies_and_the_maximum_caps_it() -> None:
    rce = Assessment(
        "remote_code_execution", "critical", "high", ("key_disclosure", "cross_tenant")
    )
    proposal = propose([TABLE], rce, shares=ONE)
    assert proposal.amount == TABLE.maximum  # 60,000 x 1.5 = 90,000: at the maximum exactly
    assert any("cross_tenant" in r and "largest bonus" in r for r in proposal.reasons)
    low = propose(
        [TABLE], Assessment("spoofing", "important", "low", ("unauthenticated",)), shares=ONE
    )
    assert low.amount == 3_000_00  # 2,500 x 1.2


def test_the_first_external_finder_is_paid_in_full_even_when_known_internally() -> None:
    known = propose(
        [TABLE],
        Assessment("tampering", "critical", "medium"),
        shares=ONE,
        standing=Standing(external_rank=1, known_internally=True),
    )
    assert known.amount == 10_000_00
    assert "the first external reporter is paid in full" in known.reasons[-1]
    strict = AwardPolicy(pay_when_known_internally=False)
    assert (
        propose(
            [TABLE],
            Assessment("tampering", "critical", "medium"),
            shares=ONE,
            standing=Standing(known_internally=True),
            policy=strict,
        ).amount
        == 0
    )


@given(st.integers(2, 50), st.fractions(min_value=0, max_value=1))
def test_a_duplicate_earns_the_policys_share(rank: int, share: Fraction) -> None:
    first = propose([TABLE], Assessment("spoofing", "critical", "high"), shares=ONE)
    later = propose(
        [TABLE],
        Assessment("spoofing", "critical", "high"),
        shares=ONE,
        standing=Standing(external_rank=rank),
        policy=AwardPolicy(duplicate_share=share),
    )
    assert later.amount == int(first.amount * share) <= first.amount
    assert (
        propose(
            [TABLE],
            Assessment("spoofing", "critical", "high"),
            shares=ONE,
            standing=Standing(external_rank=rank),
        ).amount
        == 0
    )  # the default: nothing


def test_several_programmes_pay_the_largest_single_award() -> None:
    raw = copy.deepcopy(RAW)
    raw["key"], raw["name"] = "storage", "Storage"
    for row in raw["rows"]:
        if row["impact"] == "information_disclosure" and row["severity"] == "critical":
            row["amounts"] = {"high": 45000, "medium": 20000, "low": 9000}
    storage = parse_table(raw)
    found = propose(
        [TABLE, storage], Assessment("information_disclosure", "critical", "high"), shares=ONE
    )
    assert (found.amount, found.table) == (45_000_00, "storage")
    assert len(found.candidates) == 2
    assert "the largest award (cloud $30,000.00)" in found.reasons[-1]


@given(st.integers(0, 10**9), st.lists(st.integers(1, 100), min_size=1, max_size=6))
def test_a_split_adds_up_to_the_award(amount: int, weights: list[int]) -> None:
    total = sum(weights)
    shares = {f"r{i}": Fraction(w, total) for i, w in enumerate(weights)}
    parts = split(amount, shares)
    assert sum(parts.values()) == amount
    for who, share in shares.items():
        assert abs(parts[who] - amount * share) < 1


def test_bad_tables_are_refused_with_what_is_wrong() -> None:
    def broken(change: Any) -> str:
        raw = copy.deepcopy(RAW)
        change(raw)
        with pytest.raises(TableError) as error:
            parse_table(raw, source="t")
        return str(error.value)

    assert "no row for impact spoofing, severity critical" in broken(lambda r: r["rows"].pop(6))
    assert "two rows for impact spoofing" in broken(lambda r: r["rows"].append(r["rows"][6]))
    assert "both a row and listed ineligible" in broken(
        lambda r: r["ineligible"].append({"impact": "spoofing", "severity": "critical"})
    )
    assert "is negative" in broken(lambda r: r["rows"][0]["amounts"].update(low=-5))
    assert "outside the table's bounds" in broken(
        lambda r: r["rows"][0]["amounts"].update(high=100000)
    )
    assert "not an ISO 4217 currency" in broken(lambda r: r.update(currency="XYZ1"))
    assert "finer than the currency's minor unit" in broken(lambda r: r.update(minimum="1250.001"))
    assert "a lower quality pays more" in broken(
        lambda r: r["rows"][0]["amounts"].update(low=61000, high=60000, medium=30000)
    )
    assert "a lower severity pays more" in broken(
        lambda r: r["rows"][1]["amounts"].update(high=70000)
    )
    assert "must give an amount for each quality" in broken(
        lambda r: r["rows"][0]["amounts"].pop("low")
    )
    assert "version" in broken(lambda r: r.update(version=0))
    with pytest.raises(TableError, match="no scenario"):
        propose([TABLE], Assessment("spoofing", "critical", "high", ("moon",)), shares=ONE)
    with pytest.raises(ValueError, match="no programme"):
        propose([], Assessment("spoofing", "critical", "high"), shares=ONE)
    with pytest.raises(ValueError, match="add up to 1"):
        split(100, {"a": Fraction(1, 2)})
