"""A case's severity assessment (pure): CVSS scores, the online-service rating and the SSVC
decision, computed together from what the responder says."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vulnops.cases import cwe
from vulnops.cases.severity import CvssScore, DataSensitivity, Impact, Rating, rate, score_cvss
from vulnops.cases.ssvc import (
    Decision,
    Exploitation,
    MissionWellbeing,
    SsvcInput,
    TechnicalImpact,
    decide,
)
from vulnops.errors import Invalid

_CWE = re.compile(r"^(?:CWE-)?(\d{1,5})$", re.IGNORECASE)


def parse_cwe(value: str | int | None) -> int | None:
    """``79``, ``"79"`` or ``"CWE-79"`` -> 79; anything else is a 422."""
    if value is None or value == "":
        return None
    match = _CWE.match(str(value).strip())
    if match is None or int(match.group(1)) == 0:
        raise Invalid(f"cwe_id: {value!r} is not a CWE id such as CWE-79")
    cwe_id = int(match.group(1))
    if cwe.name(cwe_id) is None:
        raise Invalid(f"cwe_id: CWE-{cwe_id} is not in MITRE's CWE list ({cwe.version()})")
    return cwe_id


@dataclass(frozen=True)
class AssessmentInput:
    cvss31_vector: str | None
    cvss40_vector: str | None
    impact: Impact | None
    data_sensitivity: DataSensitivity | None
    exploitation: Exploitation
    automatable: bool | None
    technical_impact: TechnicalImpact | None
    mission_wellbeing: MissionWellbeing | None
    cwe_id: int | None
    publicly_disclosed: bool
    customer_action_required: bool


@dataclass(frozen=True)
class Assessment:
    cvss31: CvssScore | None
    cvss40: CvssScore | None
    rating: Rating | None
    ssvc: Decision | None


def assess(given: AssessmentInput) -> Assessment:
    cvss31 = score_cvss(given.cvss31_vector, field="cvss31_vector") if given.cvss31_vector else None
    if cvss31 is not None and not cvss31.version.startswith("3"):
        raise Invalid("cvss31_vector: expected a CVSS:3.1/ (or 3.0) vector")
    cvss40 = score_cvss(given.cvss40_vector, field="cvss40_vector") if given.cvss40_vector else None
    if cvss40 is not None and cvss40.version != "4.0":
        raise Invalid("cvss40_vector: expected a CVSS:4.0/ vector")

    if (given.impact is None) != (given.data_sensitivity is None):
        raise Invalid("the rating needs both impact and data_sensitivity (or neither)")
    rating = (
        rate(given.impact, given.data_sensitivity)
        if given.impact is not None and given.data_sensitivity is not None
        else None
    )

    ssvc_points = (given.automatable, given.technical_impact, given.mission_wellbeing)
    if any(point is None for point in ssvc_points) and any(p is not None for p in ssvc_points):
        raise Invalid(
            "the SSVC decision needs automatable, technical_impact and mission_wellbeing "
            "(or none of them)"
        )
    ssvc = None
    if given.automatable is not None and given.technical_impact and given.mission_wellbeing:
        ssvc = decide(
            SsvcInput(
                exploitation=given.exploitation,
                automatable=given.automatable,
                technical_impact=given.technical_impact,
                mission_wellbeing=given.mission_wellbeing,
            )
        )
    return Assessment(cvss31=cvss31, cvss40=cvss40, rating=rating, ssvc=ssvc)
