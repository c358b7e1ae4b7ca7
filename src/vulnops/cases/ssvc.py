"""SSVC: CISA's coordinator decision (pure), from the four decision points to Track, Track*,
Attend or Act. The table is CISA's published one (SSVC guide, CISA Coordinator 2.0.3); see
docs/severity.md."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# CISA's names of values that we spell shorter (its Vulnrichment ADP entries write
# "Exploitation: public poc" in older records, "poc" in newer ones).
_ALIASES = {"public poc": "poc"}


def _spelled(value: object) -> str:
    """A value name as we spell it: lower case, words apart by one space, aliases resolved."""
    words = " ".join(str(value).replace("_", " ").replace("-", " ").split()).lower()
    return _ALIASES.get(words, words)


class _DecisionPoint(StrEnum):
    """A decision point's values, read in any case and in CISA's spelling as in ours."""

    @classmethod
    def _missing_(cls, value: object) -> _DecisionPoint | None:
        spelled = _spelled(value)
        return next((member for member in cls if member.value == spelled), None)


def yes_no(value: object) -> object:
    """Automatable's "yes"/"no" in any case as a boolean; anything else as it is (a strict
    boolean field then refuses what is not one)."""
    if isinstance(value, str) and _spelled(value) in ("yes", "no"):
        return _spelled(value) == "yes"
    return value


class Exploitation(_DecisionPoint):
    NONE = "none"
    POC = "poc"
    ACTIVE = "active"


class TechnicalImpact(_DecisionPoint):
    PARTIAL = "partial"
    TOTAL = "total"


class MissionWellbeing(_DecisionPoint):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Decision(StrEnum):
    TRACK = "Track"
    TRACK_STAR = "Track*"
    ATTEND = "Attend"
    ACT = "Act"


@dataclass(frozen=True)
class SsvcInput:
    exploitation: Exploitation
    automatable: bool
    technical_impact: TechnicalImpact
    mission_wellbeing: MissionWellbeing


_T, _TS, _AT, _AC = Decision.TRACK, Decision.TRACK_STAR, Decision.ATTEND, Decision.ACT

# (exploitation, automatable, technical impact) -> decision for mission & well-being
# low / medium / high.
_TABLE: dict[tuple[Exploitation, bool, TechnicalImpact], tuple[Decision, Decision, Decision]] = {
    (Exploitation.NONE, False, TechnicalImpact.PARTIAL): (_T, _T, _T),
    (Exploitation.NONE, False, TechnicalImpact.TOTAL): (_T, _T, _TS),
    (Exploitation.NONE, True, TechnicalImpact.PARTIAL): (_T, _T, _AT),
    (Exploitation.NONE, True, TechnicalImpact.TOTAL): (_T, _T, _AT),
    (Exploitation.POC, False, TechnicalImpact.PARTIAL): (_T, _T, _TS),
    (Exploitation.POC, False, TechnicalImpact.TOTAL): (_T, _TS, _AT),
    (Exploitation.POC, True, TechnicalImpact.PARTIAL): (_T, _T, _AT),
    (Exploitation.POC, True, TechnicalImpact.TOTAL): (_T, _TS, _AT),
    (Exploitation.ACTIVE, False, TechnicalImpact.PARTIAL): (_T, _T, _AT),
    (Exploitation.ACTIVE, False, TechnicalImpact.TOTAL): (_T, _AT, _AC),
    (Exploitation.ACTIVE, True, TechnicalImpact.PARTIAL): (_AT, _AT, _AC),
    (Exploitation.ACTIVE, True, TechnicalImpact.TOTAL): (_AT, _AC, _AC),
}
_COLUMN = {MissionWellbeing.LOW: 0, MissionWellbeing.MEDIUM: 1, MissionWellbeing.HIGH: 2}


def decide(point: SsvcInput) -> Decision:
    row = _TABLE[(point.exploitation, point.automatable, point.technical_impact)]
    return row[_COLUMN[point.mission_wellbeing]]
