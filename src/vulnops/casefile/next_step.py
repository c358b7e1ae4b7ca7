"""What a case needs next, from what is known about it (pure): the answer to "what do I do
now?" at the top of the case page, each step with the tab where it is done."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from vulnops.cases.states import ENDED, Milestone


@dataclass(frozen=True)
class Facts:
    case_id: int
    reached: Collection[Milestone]
    rated: bool
    blast_computed: bool
    tenants_affected: int
    fixes: int
    fixes_ready: int
    rollout_id: int | None  # the newest rollout
    rollout_status: str | None
    advisory_status: str | None  # the latest version's: draft, approved, sent
    advisory_readable: bool  # the caller may read the advisory (else its steps are not theirs)
    public_text: bool
    public_text_waiting: bool
    disclosure_asked: bool
    disclosure_approved: bool


@dataclass(frozen=True)
class Step:
    text: str
    href: str | None
    why: str = ""


def next_steps(facts: Facts) -> list[Step]:
    """The steps still open, the most urgent first (empty: nothing left to do)."""
    reached, base = set(facts.reached), f"/cases/{facts.case_id}"
    if reached & ENDED:
        return []
    steps: list[Step] = []
    if Milestone.ACKNOWLEDGED not in reached:
        steps.append(Step("Acknowledge the case", f"{base}#deadlines", "Its first deadline runs."))
    if not facts.rated:
        steps.append(
            Step("Assess its severity", f"{base}/severity", "The rating sets the deadlines.")
        )
    if Milestone.TRIAGED not in reached:
        steps.append(Step("Triage it: confirm it is a vulnerability to fix", f"{base}#decide"))
    if not facts.blast_computed:
        steps.append(
            Step(
                "Compute the blast radius",
                f"{base}/blast-radius",
                "It names the affected units, the audience of the advisory.",
            )
        )
    steps += _remediation(facts, reached, base)
    steps += _telling(facts, reached, base)
    if (
        Milestone.MITIGATED in reached
        and Milestone.CUSTOMERS_NOTIFIED in reached
        and (Milestone.PUBLIC in reached or facts.disclosure_approved)
    ):
        steps.append(Step("Close the case", f"{base}#decide"))
    return steps


def _remediation(facts: Facts, reached: set[Milestone], base: str) -> list[Step]:
    if Milestone.MITIGATED in reached:
        return []
    rollout = f"/rollouts/{facts.rollout_id}" if facts.rollout_id else None
    if facts.rollout_status in {"halted", "rolling_back"}:
        return [
            Step(
                f"Rollout #{facts.rollout_id} is {facts.rollout_status.replace('_', ' ')}: "
                "decide what happens to it",
                rollout,
            )
        ]
    if facts.rollout_status in {"awaiting_approval", "running", "paused"}:
        return [
            Step(
                f"Rollout #{facts.rollout_id} is {facts.rollout_status.replace('_', ' ')}",
                rollout,
                "The case is mitigated when the fix runs on every unit.",
            )
        ]
    if facts.fixes == 0:
        return [Step("Add a fix", f"{base}/fixes")]
    if facts.fixes_ready == 0:
        return [
            Step(
                "Upload the fix's test results",
                f"{base}/fixes",
                "A fix rolls out once its compatibility and data-integrity suites pass.",
            )
        ]
    return [Step("Start a rollout of the ready fix", f"{base}/fixes")]


def _telling(facts: Facts, reached: set[Milestone], base: str) -> list[Step]:
    steps: list[Step] = []
    if (
        facts.advisory_readable
        and Milestone.CUSTOMERS_NOTIFIED not in reached
        and facts.tenants_affected
    ):
        status = facts.advisory_status
        if status is None:
            steps.append(
                Step(
                    f"Draft the advisory to the {facts.tenants_affected:,} affected tenants",
                    f"{base}/advisory",
                )
            )
        elif status == "draft":
            steps.append(
                Step("The advisory waits for a second person's approval", f"{base}/advisory")
            )
        elif status == "approved":
            steps.append(Step("Send the approved advisory", f"{base}/advisory"))
    if Milestone.PUBLIC in reached:
        return steps
    if not facts.public_text:
        text = (
            "The public text waits for approval"
            if facts.public_text_waiting
            else "Write the public text"
        )
        steps.append(Step(text, f"{base}/disclosure#public-text"))
    elif facts.disclosure_approved:
        steps.append(
            Step(
                "The disclosure is approved: it is public when the embargo ends",
                f"{base}/disclosure",
            )
        )
    elif facts.disclosure_asked:
        steps.append(
            Step("The disclosure waits for a second person's approval", f"{base}/disclosure")
        )
    else:
        steps.append(Step("Ask for the disclosure", f"{base}/disclosure"))
    return steps
