"""What the delivery of advisories tells the other domains: deliveries to customers died (every
retry spent, or an answer that says retrying is useless)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveriesDied:
    advisory_id: int
    tracking_id: str
    channel: str
    deliveries: tuple[int, ...]
