"""Severity (pure): CVSS vectors parsed and scored by the ``cvss`` library, and the
online-service severity rating from a rule table over impact and data sensitivity
(docs/severity.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from cvss import CVSS3, CVSS4, CVSSError, constants3, constants4

from vulnops.errors import Invalid


@dataclass(frozen=True)
class CvssScore:
    version: str
    vector: str
    base_score: float
    severity: str


_METRIC = re.compile(r'(?:field|metric|metrics|vector) "([A-Za-z]+)')


def _bad_metric(message: str) -> str | None:
    """The metric the library's message names first (``AV`` in ``... field "AV:X"``)."""
    match = _METRIC.search(message)
    return match.group(1) if match else None


def score_cvss(vector: str, *, field: str) -> CvssScore:
    """Parse and score a CVSS 3.x or 4.0 vector; a bad one is a 422 naming the metric."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            cvss4 = CVSS4(text)
            return CvssScore("4.0", cvss4.clean_vector(), float(cvss4.base_score), cvss4.severity)
        if text.startswith(("CVSS:3.1/", "CVSS:3.0/")):
            cvss3 = CVSS3(text)
            return CvssScore(
                text[5:8], cvss3.clean_vector(), float(cvss3.base_score), cvss3.severities()[0]
            )
    except CVSSError as error:
        message = str(error)
        metric = _bad_metric(message)
        raise Invalid(
            f"{field}: invalid CVSS vector: {message}",
            errors=[{"loc": [field], "msg": message, "metric": metric}],
        ) from None
    raise Invalid(
        f"{field}: a CVSS vector starts with CVSS:3.1/, CVSS:3.0/ or CVSS:4.0/",
        errors=[{"loc": [field], "msg": "unknown CVSS version", "metric": None}],
    )


class Impact(StrEnum):
    REMOTE_CODE_EXECUTION = "remote_code_execution"
    CROSS_TENANT_ACCESS = "cross_tenant_access"
    ELEVATION_OF_PRIVILEGE = "elevation_of_privilege"
    INFORMATION_DISCLOSURE = "information_disclosure"
    TAMPERING = "tampering"
    SPOOFING = "spoofing"
    DENIAL_OF_SERVICE = "denial_of_service"
    SECURITY_FEATURE_BYPASS = "security_feature_bypass"


class DataSensitivity(StrEnum):
    CUSTOMER_CONTENT = "customer_content"
    CUSTOMER_METADATA = "customer_metadata"
    INTERNAL = "internal"
    PUBLIC = "public"


class Rating(StrEnum):
    CRITICAL = "critical"
    IMPORTANT = "important"
    MODERATE = "moderate"
    LOW = "low"


_C, _I, _M, _L = Rating.CRITICAL, Rating.IMPORTANT, Rating.MODERATE, Rating.LOW

# impact -> rating for customer content / customer metadata / internal / public data.
RATING_TABLE: dict[Impact, tuple[Rating, Rating, Rating, Rating]] = {
    Impact.REMOTE_CODE_EXECUTION: (_C, _C, _C, _C),
    Impact.CROSS_TENANT_ACCESS: (_C, _C, _I, _M),
    Impact.ELEVATION_OF_PRIVILEGE: (_C, _I, _I, _M),
    Impact.INFORMATION_DISCLOSURE: (_C, _I, _M, _L),
    Impact.TAMPERING: (_C, _I, _M, _L),
    Impact.SPOOFING: (_I, _I, _M, _L),
    Impact.DENIAL_OF_SERVICE: (_I, _M, _M, _L),
    Impact.SECURITY_FEATURE_BYPASS: (_I, _M, _M, _L),
}
_SENSITIVITY_COLUMN = {
    DataSensitivity.CUSTOMER_CONTENT: 0,
    DataSensitivity.CUSTOMER_METADATA: 1,
    DataSensitivity.INTERNAL: 2,
    DataSensitivity.PUBLIC: 3,
}


def rate(impact: Impact, sensitivity: DataSensitivity) -> Rating:
    return RATING_TABLE[impact][_SENSITIVITY_COLUMN[sensitivity]]


@dataclass(frozen=True)
class CvssMetric:
    """One base metric of a CVSS version, as the ``cvss`` library names it and its values."""

    key: str
    name: str
    values: tuple[tuple[str, str], ...]  # (code, name)


def cvss_base_metrics(version: str) -> list[CvssMetric]:
    """The base metrics of CVSS ``3.1`` or ``4.0`` in vector order, for the calculator that
    builds a vector as they are chosen."""
    constants = constants4 if version == "4.0" else constants3
    return [
        CvssMetric(
            key=key,
            name=str(constants.METRICS_ABBREVIATIONS[key]),
            values=tuple(
                (str(code), str(name))
                for code, name in constants.METRICS_VALUE_NAMES[key].items()
                if code != "X"
            ),
        )
        for key in constants.METRICS_MANDATORY
    ]
