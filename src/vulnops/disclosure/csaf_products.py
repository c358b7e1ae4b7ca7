"""A CSAF document's product tree and product status (pure): our vendor → each hosted service →
its versions, each version identified by a CPE 2.3 name; which are affected, fixed and — in a
VEX document — not affected, with the justification that says why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from vulnops.disclosure.cve_record import AffectedProduct

# CSAF 2.0 section 3.2.3.5: the labels a not-affected statement may carry.
Justification = Literal[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "inline_mitigations_already_exist",
]


@dataclass(frozen=True)
class NotAffected:
    """A version of one of the case's services that the vulnerability is not in, and why."""

    key: str
    product: str
    version: str
    justification: Justification


@dataclass
class ProductStatus:
    """The tree's branches and the product ids by status, in the order they were defined."""

    tree: dict[str, Any]
    known_affected: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    known_not_affected: list[str] = field(default_factory=list)
    flags: dict[Justification, list[str]] = field(default_factory=dict)

    def as_csaf(self) -> dict[str, list[str]]:
        named = {
            "known_affected": self.known_affected,
            "fixed": self.fixed,
            "known_not_affected": self.known_not_affected,
        }
        return {status: ids for status, ids in named.items() if ids}


_CPE_UNQUOTED = re.compile(r"[a-z0-9._\-]")


def cpe_value(text: str) -> str:
    """One attribute of a CPE 2.3 formatted string (NISTIR 7695 section 6.2): lower case,
    spaces as ``_``, every other character outside ``[a-z0-9._-]`` quoted with a backslash."""
    lowered = text.strip().lower().replace(" ", "_")
    return "".join(char if _CPE_UNQUOTED.fullmatch(char) else "\\" + char for char in lowered)


def cpe(vendor: str, product_key: str, version: str) -> str:
    """The CPE 2.3 name of a version of one of our hosted services (part ``a``)."""
    parts = (cpe_value(vendor), cpe_value(product_key), cpe_value(version))
    return "cpe:2.3:a:" + ":".join(parts) + ":*:*:*:*:*:*:*"


def _key(item: AffectedProduct) -> str:
    return item.key or item.product.lower().replace(" ", "-")


def build(
    vendor: str, affected: tuple[AffectedProduct, ...], not_affected: tuple[NotAffected, ...]
) -> ProductStatus:
    """Every product the statuses name, defined once: each known version (with its CPE), the
    range below the fix when no version is known, the fix's version, and for a service with
    neither (a configuration change) the hosted service itself, fixed — a disclosed case is
    mitigated."""
    status = ProductStatus(tree={})
    products: dict[str, dict[str, Any]] = {}

    def branches(key: str, name: str) -> list[dict[str, Any]]:
        product = products.setdefault(
            key, {"category": "product_name", "name": name, "branches": []}
        )
        listed: list[dict[str, Any]] = product["branches"]
        return listed

    for item in affected:
        key = _key(item)
        if not item.versions and not item.fixed_in:
            products[key] = {
                "category": "product_name",
                "name": item.product,
                "product": {"product_id": key, "name": item.product},
            }
            status.fixed.append(key)
            continue
        for version in item.versions:
            status.known_affected.append(
                _version(branches(key, item.product), vendor, key, item.product, version)
            )
        if not item.versions and item.fixed_in:
            product_id = f"{key}:<{item.fixed_in}"
            branches(key, item.product).append(
                {
                    "category": "product_version_range",
                    "name": f"vers:generic/<{item.fixed_in}",
                    "product": {
                        "product_id": product_id,
                        "name": f"{item.product} before {item.fixed_in}",
                    },
                }
            )
            status.known_affected.append(product_id)
        if item.fixed_in:
            status.fixed.append(
                _version(branches(key, item.product), vendor, key, item.product, item.fixed_in)
            )
    for clean in not_affected:
        product_id = _version(
            branches(clean.key, clean.product), vendor, clean.key, clean.product, clean.version
        )
        status.known_not_affected.append(product_id)
        status.flags.setdefault(clean.justification, []).append(product_id)
    status.tree = {
        "branches": [{"category": "vendor", "name": vendor, "branches": list(products.values())}]
    }
    return status


def _version(
    listed: list[dict[str, Any]], vendor: str, key: str, product: str, version: str
) -> str:
    product_id = f"{key}:{version}"
    listed.append(
        {
            "category": "product_version",
            "name": version,
            "product": {
                "product_id": product_id,
                "name": f"{product} {version}",
                "product_identification_helper": {"cpe": cpe(vendor, key, version)},
            },
        }
    )
    return product_id
