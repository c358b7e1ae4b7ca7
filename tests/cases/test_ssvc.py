"""The SSVC decision against CISA's published coordinator table, cell by cell."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from vulnops.cases.schemas import SeverityIn
from vulnops.cases.ssvc import (
    Decision,
    Exploitation,
    MissionWellbeing,
    SsvcInput,
    TechnicalImpact,
    decide,
)

# CISA SSVC guide (coordinator tree), written out row by row:
# exploitation, automatable, technical impact -> mission & well-being low, medium, high.
CISA_TABLE = """
none   no  partial  Track   Track   Track
none   no  total    Track   Track   Track*
none   yes partial  Track   Track   Attend
none   yes total    Track   Track   Attend
poc    no  partial  Track   Track   Track*
poc    no  total    Track   Track*  Attend
poc    yes partial  Track   Track   Attend
poc    yes total    Track   Track*  Attend
active no  partial  Track   Track   Attend
active no  total    Track   Attend  Act
active yes partial  Attend  Attend  Act
active yes total    Attend  Act     Act
"""


def _cells() -> list[tuple[SsvcInput, Decision]]:
    cells = []
    for line in CISA_TABLE.strip().splitlines():
        exploitation, automatable, impact, *decisions = line.split()
        for mission, decision in zip(MissionWellbeing, decisions, strict=True):
            point = SsvcInput(
                exploitation=Exploitation(exploitation),
                automatable=automatable == "yes",
                technical_impact=TechnicalImpact(impact),
                mission_wellbeing=mission,
            )
            cells.append((point, Decision(decision)))
    return cells


@pytest.mark.parametrize(("point", "expected"), _cells())
def test_every_cell_matches_cisa(point: SsvcInput, expected: Decision) -> None:
    assert decide(point) is expected


def test_the_table_covers_every_combination() -> None:
    combinations = set(
        itertools.product(Exploitation, (False, True), TechnicalImpact, MissionWellbeing)
    )
    covered = {
        (p.exploitation, p.automatable, p.technical_impact, p.mission_wellbeing)
        for p, _ in _cells()
    }
    assert covered == combinations
    assert len(combinations) == 36


ORDER = [Decision.TRACK, Decision.TRACK_STAR, Decision.ATTEND, Decision.ACT]
points = st.builds(
    SsvcInput,
    exploitation=st.sampled_from(Exploitation),
    automatable=st.booleans(),
    technical_impact=st.sampled_from(TechnicalImpact),
    mission_wellbeing=st.sampled_from(MissionWellbeing),
)


@given(points)
def test_worse_facts_never_lower_the_decision(point: SsvcInput) -> None:
    """Raising any one decision point never makes the decision less urgent."""
    base = ORDER.index(decide(point))
    worse = []
    exploits = list(Exploitation)
    if point.exploitation is not Exploitation.ACTIVE:
        worse.append(
            SsvcInput(
                exploits[exploits.index(point.exploitation) + 1],
                point.automatable,
                point.technical_impact,
                point.mission_wellbeing,
            )
        )
    if not point.automatable:
        worse.append(
            SsvcInput(point.exploitation, True, point.technical_impact, point.mission_wellbeing)
        )
    if point.technical_impact is TechnicalImpact.PARTIAL:
        worse.append(
            SsvcInput(
                point.exploitation,
                point.automatable,
                TechnicalImpact.TOTAL,
                point.mission_wellbeing,
            )
        )
    missions = list(MissionWellbeing)
    if point.mission_wellbeing is not MissionWellbeing.HIGH:
        worse.append(
            SsvcInput(
                point.exploitation,
                point.automatable,
                point.technical_impact,
                missions[missions.index(point.mission_wellbeing) + 1],
            )
        )
    for other in worse:
        assert ORDER.index(decide(other)) >= base, (point, other)


@pytest.mark.parametrize(
    ("given_values", "expected"),
    [
        # CISA's names, as its ADP entries spell them.
        (
            {"exploitation": "public poc", "automatable": "Yes", "technical_impact": "Total"},
            (Exploitation.POC, True, TechnicalImpact.TOTAL),
        ),
        (
            {"exploitation": "Active", "automatable": "no", "technical_impact": "PARTIAL"},
            (Exploitation.ACTIVE, False, TechnicalImpact.PARTIAL),
        ),
        # Ours.
        (
            {"exploitation": "poc", "automatable": True, "technical_impact": "partial"},
            (Exploitation.POC, True, TechnicalImpact.PARTIAL),
        ),
        ({"exploitation": "Public_PoC"}, (Exploitation.POC, None, None)),
    ],
)
def test_decision_points_take_cisas_value_names_in_any_case(
    given_values: dict[str, object], expected: tuple[object, object, object]
) -> None:
    """Found: only ``none|poc|active`` were taken, case-sensitive; ``public poc`` and the
    capitalised ``Active``, ``Yes``, ``Total`` of CISA's entries were refused."""
    severity = SeverityIn.model_validate({**given_values, "reason": "triage"})
    assert (severity.exploitation, severity.automatable, severity.technical_impact) == expected
    assert MissionWellbeing("High") is MissionWellbeing.HIGH


@pytest.mark.parametrize(
    ("field", "value"),
    [("exploitation", "private poc"), ("automatable", "maybe"), ("automatable", "true")],
)
def test_values_that_are_no_name_of_a_decision_point_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        SeverityIn.model_validate({field: value, "reason": "triage"})
