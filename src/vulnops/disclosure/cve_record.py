"""A case as a CVE record (CVE JSON 5.1): the CNA container and the record around it (pure).

The CVSS objects are built here, to the CVE schema, from the ``cvss`` package's scores: its own
JSON does not match the schema. The shape follows what vendors of hosted services publish
(Microsoft's records tagged ``exclusively-hosted-service``): every affected service stated with
its status, the CWE with its name, each CVSS metric with its scenario, the advisory as a named
``vendor-advisory`` reference, ``datePublic`` when the advisory went public; the SSVC decision
points, when the case has them, as an ``other`` metric in the form CISA's ADP entries use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cvss

from vulnops.cases import cwe as cwe_catalogue

DATA_VERSION = "5.1"


@dataclass(frozen=True)
class AffectedProduct:
    """A product (for us: a hosted service) and the versions the vulnerability is in."""

    product: str
    versions: tuple[str, ...] = ()
    fixed_in: str | None = None
    key: str = ""


@dataclass(frozen=True)
class Ssvc:
    """The case's SSVC decision points and the decision they give."""

    exploitation: str
    automatable: bool
    technical_impact: str
    mission_wellbeing: str | None
    decision: str | None


@dataclass(frozen=True)
class Reference:
    url: str
    name: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CveFacts:
    cve_id: str
    org_id: str
    org_short_name: str
    vendor: str
    title: str
    description: str
    affected: tuple[AffectedProduct, ...]
    cwe_ids: tuple[int, ...] = ()
    cvss31: str | None = None
    cvss40: str | None = None
    references: tuple[Reference, ...] = ()
    credits: tuple[str, ...] = ()
    timeline: tuple[tuple[datetime, str], ...] = ()
    tags: tuple[str, ...] = ()
    date_public: datetime | None = None
    ssvc: Ssvc | None = None
    assessed_at: datetime | None = None


GENERAL = [{"lang": "en", "value": "GENERAL"}]


def _ssvc(cve_id: str, ssvc: Ssvc, at: datetime) -> dict[str, Any]:
    """CISA's SSVC ``other`` metric (its Vulnrichment ADP form): the decision points by
    CISA's names, and the coordinator decision."""
    options: list[dict[str, str]] = [
        {"Exploitation": "public poc" if ssvc.exploitation == "poc" else ssvc.exploitation},
        {"Automatable": "yes" if ssvc.automatable else "no"},
        {"Technical Impact": ssvc.technical_impact},
    ]
    if ssvc.mission_wellbeing:
        options.append({"Mission and Well-being": ssvc.mission_wellbeing})
    content: dict[str, Any] = {
        "id": cve_id,
        "role": "CISA Coordinator",
        "version": "2.0.3",
        "timestamp": at.isoformat(),
        "options": options,
    }
    if ssvc.decision:
        content["decision"] = ssvc.decision
    return {"other": {"type": "ssvc", "content": content}}


def _cvss31(vector: str) -> dict[str, Any]:
    scored = cvss.CVSS3(vector)
    return {
        "version": "3.1",
        "vectorString": scored.clean_vector(),
        "baseScore": float(scored.base_score),
        "baseSeverity": scored.severities()[0].upper(),
    }


def _cvss40(vector: str) -> dict[str, Any]:
    scored = cvss.CVSS4(vector)
    return {
        "version": "4.0",
        "vectorString": vector,
        "baseScore": float(scored.base_score),
        "baseSeverity": scored.severity.upper(),
    }


def _affected(vendor: str, product: AffectedProduct) -> dict[str, Any]:
    """A hosted service as its vendor states it. The versions the blast radius found running
    are affected and the fix is not (others: unknown). Without found versions, every version
    before the fix was affected (``versionType`` custom: a service's versions have no ordering
    a consumer knows) and the later ones are not; without a fix either, the service was."""
    entry: dict[str, Any] = {"vendor": vendor, "product": product.product}
    if product.versions:
        entry["versions"] = [
            {"version": version, "status": "affected"} for version in product.versions
        ]
        if product.fixed_in:
            entry["versions"].append({"version": product.fixed_in, "status": "unaffected"})
        entry["defaultStatus"] = "unknown"
    elif product.fixed_in:
        entry["versions"] = [
            {
                "version": "0",
                "lessThan": product.fixed_in,
                "versionType": "custom",
                "status": "affected",
            }
        ]
        entry["defaultStatus"] = "unaffected"
    else:
        entry["defaultStatus"] = "affected"
    return entry


def _reference(reference: Reference) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": reference.url, "name": reference.name}
    if reference.tags:
        entry["tags"] = list(reference.tags)
    return entry


def _english(text: str) -> list[dict[str, str]]:
    return [{"lang": "en", "value": text}] if text.strip() else []


def cna_container(facts: CveFacts) -> dict[str, Any]:
    container: dict[str, Any] = {
        "providerMetadata": {"orgId": facts.org_id, "shortName": facts.org_short_name},
        "title": facts.title,
        "descriptions": _english(facts.description),
        "affected": [_affected(facts.vendor, product) for product in facts.affected],
        "references": [_reference(reference) for reference in facts.references],
    }
    if facts.cwe_ids:
        container["problemTypes"] = [
            {
                "descriptions": [
                    {
                        "lang": "en",
                        "type": "CWE",
                        "cweId": f"CWE-{cwe}",
                        "description": cwe_catalogue.label(cwe),
                    }
                    for cwe in facts.cwe_ids
                ]
            }
        ]
    metrics = [
        *(
            [{"format": "CVSS", "scenarios": GENERAL, "cvssV3_1": _cvss31(facts.cvss31)}]
            if facts.cvss31
            else []
        ),
        *(
            [{"format": "CVSS", "scenarios": GENERAL, "cvssV4_0": _cvss40(facts.cvss40)}]
            if facts.cvss40
            else []
        ),
    ]
    if facts.ssvc is not None and facts.assessed_at is not None:
        metrics.append(_ssvc(facts.cve_id, facts.ssvc, facts.assessed_at))
    if metrics:
        container["metrics"] = metrics
    if facts.credits:
        container["credits"] = [
            {"lang": "en", "value": name, "type": "finder"} for name in facts.credits
        ]
    if facts.timeline:
        container["timeline"] = [
            {"time": at.isoformat(), "lang": "en", "value": value} for at, value in facts.timeline
        ]
    if facts.tags:
        container["tags"] = list(facts.tags)
    if facts.date_public:
        container["datePublic"] = facts.date_public.isoformat()
    return container


def record(facts: CveFacts, *, published: datetime | None) -> dict[str, Any]:
    """The whole record: ``dataType``, ``dataVersion``, ``cveMetadata`` and the CNA container;
    ``published``: when CVE Services published it (None before: it sets the date itself)."""
    metadata: dict[str, Any] = {
        "cveId": facts.cve_id,
        "assignerOrgId": facts.org_id,
        "assignerShortName": facts.org_short_name,
        "state": "PUBLISHED",
    }
    if published is not None:
        metadata["datePublished"] = published.isoformat()
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": DATA_VERSION,
        "cveMetadata": metadata,
        "containers": {"cna": cna_container(facts)},
    }
