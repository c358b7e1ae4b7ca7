"""The disclosure rules (pure): what each step needs, and which rules no override lifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vulnops.disclosure.rules import (
    Facts,
    Rule,
    Unmet,
    only_waiting_for_embargo,
    to_approve_disclosure,
    to_publish_cve,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
READY = Facts(
    now=NOW,
    rejected=False,
    customers_notified=True,
    public_text_approved=True,
    cve_needed=True,
    cve_id="CVE-2026-1000",
    disclosed_at=NOW - timedelta(days=1),
    public_from=NOW - timedelta(hours=1),
    mitigated=True,
)


def _unmet(found: list[Unmet]) -> dict[Rule, bool]:
    return {u.rule: u.overridable for u in found}


def test_a_ready_case_publishes_and_every_missing_fact_is_named() -> None:
    assert to_publish_cve(READY) == []
    bare = Facts(
        now=NOW,
        rejected=False,
        customers_notified=False,
        public_text_approved=False,
        cve_needed=True,
        cve_id="CVE-2026-1000",
        record_problems=("containers/cna/descriptions: too short",),
    )
    assert _unmet(to_publish_cve(bare)) == {
        Rule.DISCLOSURE_APPROVED: False,
        Rule.MITIGATED: False,
        Rule.CUSTOMERS_NOTIFIED: True,
        Rule.PUBLIC_TEXT_APPROVED: False,
        Rule.VALID_RECORD: False,
    }


def test_no_override_publishes_during_an_embargo_or_for_a_rejected_case() -> None:
    embargoed = Facts(**{**READY.__dict__, "public_from": NOW + timedelta(days=3)})
    unmet = to_publish_cve(embargoed)
    assert _unmet(unmet) == {Rule.EMBARGO_ENDED: False} and only_waiting_for_embargo(unmet)
    rejected = Facts(**{**READY.__dict__, "rejected": True})
    assert _unmet(to_publish_cve(rejected)) == {Rule.NOT_REJECTED: False}
    assert Rule.NOT_REJECTED in _unmet(to_approve_disclosure(rejected))


def test_a_needed_cve_asks_for_a_choice_before_the_disclosure() -> None:
    none_reserved = Facts(**{**READY.__dict__, "cve_id": None})
    assert _unmet(to_approve_disclosure(none_reserved)) == {Rule.CVE_CHOICE: False}
    without = Facts(**{**none_reserved.__dict__, "without_cve_reason": "retired service"})
    assert to_approve_disclosure(without) == []
