"""Escalation (pure): which step of a policy is due after which, and when.

A policy's steps run in order; a step's ``delay_minutes`` is how long after the step before it
it runs (the first step's, after the page was raised). After the last step the policy starts
again ``repeat`` times; the first step of a repeat waits as long as the last step did (a page
re-notifies at the pace its policy escalates). A page without steps notifies nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Due:
    step: int
    loop: int
    delay_minutes: int


def first(policy: dict[str, Any]) -> Due | None:
    steps = policy.get("steps") or []
    return Due(0, 0, int(steps[0]["delay_minutes"])) if steps else None


def after(policy: dict[str, Any], step: int, loop: int) -> Due | None:
    """The escalation due after ``step`` of ``loop`` ran (None: the policy is exhausted)."""
    steps = policy.get("steps") or []
    if step + 1 < len(steps):
        return Due(step + 1, loop, int(steps[step + 1]["delay_minutes"]))
    if loop < int(policy.get("repeat", 0)) and steps:
        return Due(0, loop + 1, max(int(steps[-1]["delay_minutes"]), 1))
    return None
