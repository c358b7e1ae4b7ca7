"""When a failed delivery is tried again (pure).

Exponential backoff with "equal jitter" (a random wait between half the exponential bound and the
bound), so
that the deliveries that failed together — one receiver down for everyone — do not come back in
step. The retries live in the delivery rows, not in a worker's memory, so that they survive any
crash; an in-process retry library would not.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after the ``attempt``-th failure (1 for the first)."""
        bound = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        return rng.uniform(bound / 2, bound)

    def is_last(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
