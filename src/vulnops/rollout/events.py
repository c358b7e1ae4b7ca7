"""What a rollout tells the other domains: a rollout needs a person — a stage failed its gate,
the rollout halted, or a gate has had no verdict for long (the stage holds)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RolloutNeedsAttention:
    rollout_id: int
    case_id: int
    service_id: int
    stage: int | None
    reason: str
