"""A case as a CVE record (CVE JSON 5.1): the CNA container and the record around it (pure).

The CVSS objects are built here, to the CVE schema, from the ``cvss`` package's scores: its own
JSON does not match the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cvss

DATA_VERSION = "5.1"


@dataclass(frozen=True)
class AffectedProduct:
    """A product (for us: a hosted service) and the versions the vulnerability is in."""

    product: str
    versions: tuple[str, ...] = ()
    fixed_in: str | None = None
    key: str = ""


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
    references: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    timeline: tuple[tuple[datetime, str], ...] = ()
    tags: tuple[str, ...] = ()
    date_public: datetime | None = None


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
    versions: list[dict[str, Any]] = [
        {"version": version, "status": "affected"} for version in product.versions
    ]
    if product.fixed_in:
        versions.append({"version": product.fixed_in, "status": "unaffected"})
    entry: dict[str, Any] = {"vendor": vendor, "product": product.product}
    if versions:
        entry["versions"] = versions
    entry["defaultStatus"] = "unknown" if versions else "affected"
    return entry


def _english(text: str) -> list[dict[str, str]]:
    return [{"lang": "en", "value": text}] if text.strip() else []


def cna_container(facts: CveFacts) -> dict[str, Any]:
    container: dict[str, Any] = {
        "providerMetadata": {"orgId": facts.org_id, "shortName": facts.org_short_name},
        "title": facts.title,
        "descriptions": _english(facts.description),
        "affected": [_affected(facts.vendor, product) for product in facts.affected],
        "references": [{"url": url} for url in facts.references],
    }
    if facts.cwe_ids:
        container["problemTypes"] = [
            {
                "descriptions": [
                    {
                        "lang": "en",
                        "type": "CWE",
                        "cweId": f"CWE-{cwe}",
                        "description": f"CWE-{cwe}",
                    }
                    for cwe in facts.cwe_ids
                ]
            }
        ]
    metrics = [
        *([{"format": "CVSS", "cvssV3_1": _cvss31(facts.cvss31)}] if facts.cvss31 else []),
        *([{"format": "CVSS", "cvssV4_0": _cvss40(facts.cvss40)}] if facts.cvss40 else []),
    ]
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


def record(facts: CveFacts, *, published: datetime) -> dict[str, Any]:
    """The whole record: ``dataType``, ``dataVersion``, ``cveMetadata`` and the CNA container."""
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": DATA_VERSION,
        "cveMetadata": {
            "cveId": facts.cve_id,
            "assignerOrgId": facts.org_id,
            "assignerShortName": facts.org_short_name,
            "state": "PUBLISHED",
            "datePublished": published.isoformat(),
        },
        "containers": {"cna": cna_container(facts)},
    }


def references(urls: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(url for url in urls if url))
