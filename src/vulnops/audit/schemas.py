from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    subject: str
    kind: str
    actor: str
    data: dict[str, Any]
    occurred_at: datetime
    hash: str


ProblemKind = Literal["changed", "broken_link", "deleted", "truncated", "appended"]


class ChainProblem(BaseModel):
    seq: int
    kind: ProblemKind
    message: str


class VerifyResult(BaseModel):
    ok: bool
    events_checked: int
    head_seq: int
    problem: ChainProblem | None
