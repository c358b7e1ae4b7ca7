"""Response deadlines (pure): how long each step may take, per severity rating.

The policy is data — ``sla.yaml`` shipped beside this module, or ``VULNOPS_SLA_POLICY_FILE`` — and
the clock starts when the first report arrived (or when the case was opened, if it had none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from vulnops.cases.severity import Rating
from vulnops.durations import parse_duration

DEFAULT_POLICY_FILE = Path(__file__).with_name("sla.yaml")
UNRATED = "unrated"


class Deadline(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    TRIAGE = "triage"
    MITIGATE = "mitigate"


class PolicyError(ValueError):
    """The policy file says something we cannot use; the message names where."""


@dataclass(frozen=True)
class SlaPolicy:
    targets: dict[str, dict[Deadline, timedelta]]

    def deadlines(self, rating: Rating | None, started_at: datetime) -> dict[Deadline, datetime]:
        targets = self.targets[rating.value if rating else UNRATED]
        return {milestone: started_at + span for milestone, span in targets.items()}


def parse_policy(document: Any) -> SlaPolicy:
    if not isinstance(document, dict):
        raise PolicyError("the SLA policy must map ratings to deadlines")
    known = {rating.value for rating in Rating} | {UNRATED}
    unknown = set(document) - known
    if unknown:
        raise PolicyError(f"unknown rating(s) {sorted(unknown)}; use {sorted(known)}")
    missing = known - set(document)
    if missing:
        raise PolicyError(f"the SLA policy has no deadlines for {sorted(missing)}")
    targets: dict[str, dict[Deadline, timedelta]] = {}
    for rating, spans in document.items():
        if not isinstance(spans, dict):
            raise PolicyError(f"{rating}: expected milestone: duration pairs")
        names = {milestone.value for milestone in Deadline}
        bad = set(spans) - names
        if bad:
            raise PolicyError(f"{rating}: unknown milestone(s) {sorted(bad)}; use {sorted(names)}")
        try:
            targets[rating] = {
                Deadline(name): parse_duration(value, where=f"{rating}.{name}")
                for name, value in spans.items()
            }
        except ValueError as error:
            raise PolicyError(str(error)) from None
    return SlaPolicy(targets)


def load_policy(path: Path | None = None) -> SlaPolicy:
    source = path or DEFAULT_POLICY_FILE
    try:
        return parse_policy(yaml.safe_load(source.read_text()))
    except yaml.YAMLError as error:
        raise PolicyError(f"{source}: not valid YAML: {error}") from None
    except PolicyError as error:
        raise PolicyError(f"{source}: {error}") from None


def overdue(
    deadlines: dict[Deadline, datetime],
    reached: dict[Deadline, datetime | None],
    now: datetime,
) -> list[Deadline]:
    """The milestones whose deadline passed before they were reached."""
    late = []
    for milestone, due in deadlines.items():
        done = reached.get(milestone)
        if (done is None and due <= now) or (done is not None and done > due):
            late.append(milestone)
    return late
