"""Does a case get a CVE? (pure)

For a cloud service the industry's rule is to publish a CVE only when customers must act; some
organisations also publish one for every critical vulnerability. The policy is data, and the
decision says which rule gave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

HOSTED_TAG = "exclusively-hosted-service"


class CvePolicy(StrEnum):
    CUSTOMER_ACTION = "customer-action"
    CUSTOMER_ACTION_OR_CRITICAL = "customer-action-or-critical"


@dataclass(frozen=True)
class CveDecision:
    cve: bool
    reason: str
    tags: tuple[str, ...] = ()


def decide(
    *,
    policy: CvePolicy,
    customer_action_required: bool,
    rating: str | None,
    hosted_only: bool,
    no_cve_reason: str | None = None,
) -> CveDecision:
    """The decision for one case. ``no_cve_reason`` (a person's call) overrides the policy;
    ``hosted_only`` — every affected product is a service we run — tags the record."""
    tags = (HOSTED_TAG,) if hosted_only else ()
    if no_cve_reason is not None and no_cve_reason.strip():
        return CveDecision(False, f"marked as no CVE: {no_cve_reason.strip()}")
    if customer_action_required:
        return CveDecision(True, "customers must act", tags)
    if policy is CvePolicy.CUSTOMER_ACTION_OR_CRITICAL and rating == "critical":
        return CveDecision(True, f"critical, and the policy is {policy.value}", tags)
    if policy is CvePolicy.CUSTOMER_ACTION_OR_CRITICAL:
        return CveDecision(False, f"no customer action and not critical ({policy.value})")
    return CveDecision(False, f"no customer action is required ({policy.value})")
