"""The rules that guard what may become public (pure), in one place.

Every route, command and job that publishes asks here: :func:`to_publish_cve` before a CVE record
goes to CVE Services (a published CVE cannot be taken back), :func:`to_approve_disclosure` before
a disclosure is asked for and again when it is approved. Each returns the rules the facts do not
meet; the caller refuses unless an administrator overrides the overridable ones with a reason
(``guard.enforce``). Nothing else bypasses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Rule(StrEnum):
    NOT_REJECTED = "not_rejected"
    DISCLOSURE_APPROVED = "disclosure_approved"
    EMBARGO_ENDED = "embargo_ended"
    CUSTOMERS_NOTIFIED = "customers_notified"
    PUBLIC_TEXT_APPROVED = "public_text_approved"
    VALID_RECORD = "valid_record"
    CVE_CHOICE = "cve_choice"
    MITIGATED = "mitigated"


@dataclass(frozen=True)
class Facts:
    """What the rules read about one case, at ``now``."""

    now: datetime
    rejected: bool
    customers_notified: bool
    public_text_approved: bool
    cve_needed: bool
    cve_id: str | None
    without_cve_reason: str | None = None
    disclosed_at: datetime | None = None
    public_from: datetime | None = None
    record_problems: tuple[str, ...] = ()
    # Unsure is not mitigated: a CVE record is for a vulnerability that is fixed.
    mitigated: bool = False


@dataclass(frozen=True)
class Unmet:
    rule: Rule
    message: str
    # An administrator may override it with a reason; content rules (the text a record or a
    # page shows, a record CVE Services would refuse) cannot be overridden.
    overridable: bool = True


def _public_text(facts: Facts) -> list[Unmet]:
    if facts.public_text_approved:
        return []
    return [
        Unmet(
            Rule.PUBLIC_TEXT_APPROVED,
            "the case has no approved public text (title, description, impact, what customers "
            "must do): draft it and have it approved",
            overridable=False,
        )
    ]


def _notified(facts: Facts) -> list[Unmet]:
    if facts.customers_notified:
        return []
    return [
        Unmet(
            Rule.CUSTOMERS_NOTIFIED,
            "the affected customers have not been notified yet: send the advisory (or record "
            "that no customer needs telling)",
        )
    ]


def _not_rejected(facts: Facts) -> list[Unmet]:
    if not facts.rejected:
        return []
    return [
        Unmet(
            Rule.NOT_REJECTED,
            "the case was rejected: nothing about it goes public (reopen it first)",
            overridable=False,
        )
    ]


def to_approve_disclosure(facts: Facts) -> list[Unmet]:
    """Asking for, or approving, the public disclosure of a case."""
    unmet = [*_not_rejected(facts), *_notified(facts), *_public_text(facts)]
    without = (facts.without_cve_reason or "").strip()
    if facts.cve_needed and facts.cve_id is None and not without:
        unmet.append(
            Unmet(
                Rule.CVE_CHOICE,
                "the CVE decision says a CVE is needed and none is reserved: reserve one now "
                "(cve_choice=reserve), or disclose without one and say why "
                "(cve_choice=without with without_cve_reason)",
                overridable=False,
            )
        )
    return unmet


def to_publish_cve(facts: Facts) -> list[Unmet]:
    """Publishing the case's CVE record to CVE Services. A published CVE cannot be taken back:
    no override publishes one for an undisclosed case or during its embargo (an administrator
    ends an embargo early, with a reason, through ``disclosing.end_embargo``); nor one for a
    case whose fix has not reached every unit."""
    unmet: list[Unmet] = _not_rejected(facts)
    if facts.disclosed_at is None or facts.public_from is None:
        unmet.append(
            Unmet(
                Rule.DISCLOSURE_APPROVED,
                "the case's disclosure is not approved: a CVE is published only for a "
                "disclosed case",
                overridable=False,
            )
        )
    elif facts.public_from > facts.now:
        unmet.append(
            Unmet(
                Rule.EMBARGO_ENDED,
                f"the case is under embargo until {facts.public_from:%Y-%m-%d %H:%M} UTC: "
                "publish then (ask for it to be published when the embargo ends)",
                overridable=False,
            )
        )
    if not facts.mitigated:
        unmet.append(
            Unmet(
                Rule.MITIGATED,
                "the case is not mitigated: its fix has not reached every unit, and a CVE "
                "record describes a vulnerability that is fixed",
                overridable=False,
            )
        )
    unmet += _notified(facts)
    unmet += _public_text(facts)
    if facts.record_problems:
        unmet.append(
            Unmet(
                Rule.VALID_RECORD,
                f"the CVE record is not valid: {'; '.join(facts.record_problems)}",
                overridable=False,
            )
        )
    return unmet


def only_waiting_for_embargo(unmet: list[Unmet]) -> bool:
    """Everything but the end of the embargo is met: publishing can be scheduled for then."""
    return [u.rule for u in unmet] == [Rule.EMBARGO_ENDED]
