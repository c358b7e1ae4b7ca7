"""A disclosed case as a CSAF 2.0 document (pure): a ``csaf_security_advisory`` (what was
affected, what fixed it, what customers must do), or a ``csaf_vex`` — the same, and for every
other known version of the case's services a not-affected statement with its justification.
TLP:WHITE: only public cases."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import cvss

from vulnops import __version__
from vulnops.cases import cwe
from vulnops.disclosure import csaf_products
from vulnops.disclosure.csaf_products import NotAffected
from vulnops.disclosure.cve_record import AffectedProduct

Category = Literal["csaf_security_advisory", "csaf_vex"]


@dataclass(frozen=True)
class CsafFacts:
    tracking_id: str
    title: str
    summary: str
    vendor: str
    namespace: str
    url: str
    released: datetime
    affected: tuple[AffectedProduct, ...]
    cve_id: str | None = None
    cwe_id: int | None = None
    cvss31: str | None = None
    customer_action_required: bool = False
    # The approved public text's "what customers must do" (empty: the default sentence).
    customer_action: str = ""
    # Where the document itself is served (its canonical URL, CSAF 6.2.11); ``url`` is the page.
    json_url: str = ""
    # The researchers credited (their chosen names) and the case's rating (our scale).
    credits: tuple[str, ...] = ()
    rating: str | None = None
    # The approved public text's impact, and when the fix reached every unit.
    impact: str = ""
    mitigated_at: datetime | None = None
    # The versions of the case's services it is not in (stated in a VEX document only).
    not_affected: tuple[NotAffected, ...] = ()


def file_name(tracking_id: str) -> str:
    """CSAF 2.0 section 5.1: the tracking id in lower case, other characters as ``_``."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def path(tracking_id: str, released: datetime) -> str:
    """Where the document lies in the provider's directory (``white/<year>/<file>``)."""
    return f"{released.year}/{file_name(tracking_id)}"


def serialized(document: dict[str, Any]) -> bytes:
    """The one way a document becomes bytes: what is served, hashed and signed."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def _sorted(value: Any) -> Any:
    """Every object's keys in alphabetical order (the BSI validator's optional test 6.2.13)."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def document(facts: CsafFacts, *, category: Category) -> dict[str, Any]:
    released = facts.released.isoformat()
    products = csaf_products.build(
        facts.vendor, facts.affected, facts.not_affected if category == "csaf_vex" else ()
    )
    affected = products.known_affected
    vulnerability: dict[str, Any] = {
        "title": facts.title,
        "notes": [{"category": "description", "title": "Description", "text": facts.summary}],
        "product_status": products.as_csaf(),
    }
    if products.flags:
        vulnerability["flags"] = [
            {"label": label, "product_ids": ids} for label, ids in sorted(products.flags.items())
        ]
    if facts.cve_id:
        vulnerability["cve"] = facts.cve_id
    else:
        vulnerability["ids"] = [{"system_name": facts.vendor, "text": facts.tracking_id}]
    if facts.cwe_id:
        vulnerability["cwe"] = {
            "id": f"CWE-{facts.cwe_id}",
            "name": cwe.name(facts.cwe_id) or f"CWE-{facts.cwe_id}",
        }
    if affected:
        action = facts.customer_action or (
            "Affected customers were told, confidentially, what to do."
            if facts.customer_action_required
            else "Fixed by us in the service; customers need not act."
        )
        remediation: dict[str, Any] = {
            "category": "vendor_fix",
            "details": action,
            "product_ids": affected,
        }
        if facts.mitigated_at is not None:
            remediation["date"] = facts.mitigated_at.isoformat()
        vulnerability["remediations"] = [remediation]
        if facts.impact.strip():
            vulnerability["threats"] = [
                {"category": "impact", "details": facts.impact.strip(), "product_ids": affected}
            ]
        if facts.cvss31:
            vulnerability["scores"] = [
                {"cvss_v3": cvss.CVSS3(facts.cvss31).as_json(minimal=True), "products": affected}
            ]
    extra: dict[str, Any] = {}
    if facts.credits:
        extra["acknowledgments"] = [
            {"names": list(facts.credits), "summary": "for reporting the vulnerability"}
        ]
    if facts.rating:
        extra["aggregate_severity"] = {"text": facts.rating.capitalize()}
    built: dict[str, Any] = _sorted(
        {
            "document": {
                "category": category,
                "csaf_version": "2.0",
                "lang": "en",
                "title": facts.title,
                "publisher": {
                    "category": "vendor",
                    "name": facts.vendor,
                    "namespace": facts.namespace,
                },
                **extra,
                "distribution": {"tlp": {"label": "WHITE"}},
                "notes": [{"category": "summary", "title": "Summary", "text": facts.summary}],
                "references": [
                    {"category": "self", "summary": "This document", "url": facts.json_url},
                    {"category": "external", "summary": "The advisory", "url": facts.url},
                ],
                "tracking": {
                    "id": facts.tracking_id,
                    "status": "final",
                    "version": "1",
                    "initial_release_date": released,
                    "current_release_date": released,
                    "revision_history": [
                        {"number": "1", "date": released, "summary": "Initial release."}
                    ],
                    "generator": {"engine": {"name": "vulnops", "version": __version__}},
                },
            },
            "product_tree": products.tree,
            "vulnerabilities": [vulnerability],
        }
    )
    return built
