"""The on-call document the paging tests share: a weekly rotation in Paris, the default
policy (the schedule, then a lead after 15 minutes, once more)."""

from __future__ import annotations

from typing import Any

ONCALL: dict[str, Any] = {
    "schedules": [
        {
            "key": "primary",
            "time_zone": "Europe/Paris",
            "layers": [
                {
                    "name": "weekly",
                    "start": "2026-01-05T09:00",
                    "rotation": "weekly",
                    "users": ["alice@example.com", "bob@example.com"],
                }
            ],
        }
    ],
    "escalation_policies": [
        {
            "key": "security",
            "default": True,
            "repeat": 1,
            "steps": [
                {"delay_minutes": 0, "targets": ["schedule:primary"]},
                {"delay_minutes": 15, "targets": ["user:lead@example.com"]},
            ],
        }
    ],
}
