"""What a rollout tells the other domains: a rollout needs a person — a stage failed its gate,
the rollout halted, a gate has had no verdict for long (the stage holds), or held past the
policy's ``max_hold``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Attention = Literal["failed", "halted", "holding", "hold_expired", "rollback_failed"]


@dataclass(frozen=True)
class RolloutNeedsAttention:
    rollout_id: int
    case_id: int
    service_id: int
    stage: int | None
    reason: str
    kind: Attention = "halted"
