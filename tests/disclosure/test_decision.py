"""The CVE decision (pure): every combination of the policy's inputs."""

from __future__ import annotations

import pytest

from vulnops.disclosure.decision import HOSTED_TAG, CvePolicy, decide

A, AC = CvePolicy.CUSTOMER_ACTION, CvePolicy.CUSTOMER_ACTION_OR_CRITICAL


@pytest.mark.parametrize(
    ("policy", "action", "rating", "cve", "reason"),
    [
        (A, True, "low", True, "customers must act"),
        (A, False, "critical", False, "no customer action is required (customer-action)"),
        (A, False, None, False, "no customer action is required (customer-action)"),
        (AC, True, "moderate", True, "customers must act"),
        (AC, False, "critical", True, "critical, and the policy is customer-action-or-critical"),
        (AC, False, "important", False, "no customer action and not critical"),
    ],
)
def test_the_policy_decides_and_says_why(
    policy: CvePolicy, action: bool, rating: str | None, cve: bool, reason: str
) -> None:
    decision = decide(
        policy=policy, customer_action_required=action, rating=rating, hosted_only=False
    )
    assert decision.cve is cve
    assert decision.reason.startswith(reason)
    assert decision.tags == ()


def test_a_hosted_service_is_tagged_and_a_persons_no_cve_wins() -> None:
    hosted = decide(policy=A, customer_action_required=True, rating="low", hosted_only=True)
    assert hosted.cve and hosted.tags == (HOSTED_TAG,)
    marked = decide(
        policy=AC,
        customer_action_required=True,
        rating="critical",
        hosted_only=True,
        no_cve_reason="  a duplicate of CVE-2026-1234 ",
    )
    assert not marked.cve and marked.reason == "marked as no CVE: a duplicate of CVE-2026-1234"
