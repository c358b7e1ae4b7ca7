"""The vocabulary of a told event log (pure): the groups events belong to, a sentence with its
tone, and a kind of event (its group, whether it is a key event, how it is told). The kinds
themselves are in ``kinds``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Group(StrEnum):
    CASE = "case"
    REPORTS = "reports"
    FIXES = "fixes"
    ROLLOUTS = "rollouts"
    ADVISORY = "advisory"
    DISCLOSURE = "disclosure"
    ONCALL = "oncall"
    VARIANTS = "variants"
    REVIEW = "review"


GROUP_LABELS = {
    Group.CASE: "Case",
    Group.REPORTS: "Reports",
    Group.FIXES: "Fixes",
    Group.ROLLOUTS: "Rollouts",
    Group.ADVISORY: "Advisory",
    Group.DISCLOSURE: "Disclosure",
    Group.ONCALL: "On call",
    Group.VARIANTS: "Root cause and variants",
    Group.REVIEW: "Review",
}


@dataclass(frozen=True)
class Told:
    sentence: str
    tone: str = ""


Teller = Callable[[dict[str, Any], str, str], Told]  # data, actor, the subject's name


@dataclass(frozen=True)
class Kind:
    group: Group
    key: bool
    tell: Teller


def kind(group: Group, tell: Teller, *, key: bool = True) -> Kind:
    return Kind(group, key, tell)


def reason(data: dict[str, Any], key: str = "reason") -> str:
    """``: why`` when the event gives its reason (under ``key``), else nothing."""
    text = data.get(key)
    return f": {text}" if text else ""
