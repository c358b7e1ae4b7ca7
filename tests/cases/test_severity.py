from __future__ import annotations

import pytest

from vulnops.cases.assessment import AssessmentInput, assess, parse_cwe
from vulnops.cases.severity import (
    RATING_TABLE,
    DataSensitivity,
    Impact,
    Rating,
    rate,
    score_cvss,
)
from vulnops.cases.ssvc import Decision, Exploitation, MissionWellbeing, TechnicalImpact
from vulnops.errors import Invalid


@pytest.mark.parametrize(
    ("vector", "score", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "Critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "Medium"),
        # 8.22*0.55*0.44*0.27*0.62 + 6.42*0.22 = 1.745, rounded up.
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", 1.8, "Low"),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "Medium"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "Critical"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, "None"),
    ],
)
def test_vectors_are_scored_by_the_cvss_library(vector: str, score: float, severity: str) -> None:
    result = score_cvss(vector, field="v")
    assert (result.base_score, result.severity) == (score, severity)


@pytest.mark.parametrize(
    ("vector", "metric"),
    [
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "A"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/QQ:1", "QQ"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:Q/VI:H/VA:H/SC:N/SI:N/SA:N", "VC"),
    ],
)
def test_a_bad_vector_names_the_metric(vector: str, metric: str) -> None:
    with pytest.raises(Invalid) as caught:
        score_cvss(vector, field="cvss31_vector")
    assert caught.value.extra["errors"][0]["metric"] == metric
    assert metric in caught.value.detail
    assert caught.value.detail.startswith("cvss31_vector:")


def test_an_unknown_cvss_version_is_refused() -> None:
    with pytest.raises(Invalid, match=r"CVSS:3\.1/"):
        score_cvss("CVSS:2.0/AV:N", field="v")


def test_the_rating_table_is_complete_and_ordered_by_sensitivity() -> None:
    order = list(Rating)
    for impact in Impact:
        ratings = [rate(impact, sensitivity) for sensitivity in DataSensitivity]
        assert len(ratings) == 4
        # Less sensitive data never rates higher.
        indexes = [order.index(rating) for rating in ratings]
        assert indexes == sorted(indexes), impact
    assert set(RATING_TABLE) == set(Impact)


@pytest.mark.parametrize(
    ("impact", "sensitivity", "rating"),
    [
        (Impact.REMOTE_CODE_EXECUTION, DataSensitivity.PUBLIC, Rating.CRITICAL),
        (Impact.CROSS_TENANT_ACCESS, DataSensitivity.CUSTOMER_CONTENT, Rating.CRITICAL),
        (Impact.INFORMATION_DISCLOSURE, DataSensitivity.CUSTOMER_METADATA, Rating.IMPORTANT),
        (Impact.DENIAL_OF_SERVICE, DataSensitivity.INTERNAL, Rating.MODERATE),
        (Impact.SPOOFING, DataSensitivity.PUBLIC, Rating.LOW),
    ],
)
def test_documented_ratings(impact: Impact, sensitivity: DataSensitivity, rating: Rating) -> None:
    assert rate(impact, sensitivity) is rating


def _input(**changes: object) -> AssessmentInput:
    base: dict[str, object] = {
        "cvss31_vector": None,
        "cvss40_vector": None,
        "impact": None,
        "data_sensitivity": None,
        "exploitation": Exploitation.NONE,
        "automatable": None,
        "technical_impact": None,
        "mission_wellbeing": None,
        "cwe_id": None,
        "publicly_disclosed": False,
        "customer_action_required": False,
    }
    return AssessmentInput(**{**base, **changes})  # type: ignore[arg-type]


def test_an_assessment_computes_everything_together() -> None:
    result = assess(
        _input(
            cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            impact=Impact.CROSS_TENANT_ACCESS,
            data_sensitivity=DataSensitivity.CUSTOMER_CONTENT,
            exploitation=Exploitation.ACTIVE,
            automatable=True,
            technical_impact=TechnicalImpact.TOTAL,
            mission_wellbeing=MissionWellbeing.HIGH,
        )
    )
    assert result.cvss31 is not None
    assert result.cvss31.base_score == 9.8
    assert result.rating is Rating.CRITICAL
    assert result.ssvc is Decision.ACT


def test_half_a_rating_or_half_an_ssvc_is_refused() -> None:
    with pytest.raises(Invalid, match="impact and data_sensitivity"):
        assess(_input(impact=Impact.TAMPERING))
    with pytest.raises(Invalid, match="automatable, technical_impact and mission_wellbeing"):
        assess(_input(automatable=True))


def test_a_vector_in_the_wrong_field_is_refused() -> None:
    with pytest.raises(Invalid, match="cvss40_vector"):
        assess(_input(cvss40_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))


@pytest.mark.parametrize(
    ("given", "expected"), [(79, 79), ("79", 79), ("CWE-79", 79), ("cwe-1021", 1021), (None, None)]
)
def test_cwe_ids(given: str | int | None, expected: int | None) -> None:
    assert parse_cwe(given) == expected


@pytest.mark.parametrize("bad", ["CWE-", "XSS", "CWE-0", "-5", "CWE-79a"])
def test_bad_cwe_ids(bad: str) -> None:
    with pytest.raises(Invalid, match="CWE"):
        parse_cwe(bad)
