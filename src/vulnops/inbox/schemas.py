from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class InboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    sender: str
    recipient: str
    subject: str
    body: str
    headers: dict[str, Any]
    received_at: datetime
