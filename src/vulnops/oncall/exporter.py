"""The on-call document as the import reads it: every schedule (a layer's current members, in
their order), its overrides, and every escalation policy — a handful of queries in all."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.oncall import service
from vulnops.oncall.schemas import WEEKDAYS

_TARGETS = """
SELECT p.key AS policy, st.position AS step, st.delay_minutes, t.position,
       u.email, s.key AS schedule, t.layer
FROM escalation_policies p
JOIN escalation_steps st ON st.policy_id = p.id
JOIN escalation_targets t ON t.step_id = st.id
LEFT JOIN users u ON u.id = t.user_id
LEFT JOIN oncall_schedules s ON s.id = t.schedule_id
ORDER BY p.key, st.position, t.position
"""

_SERVICES = """
SELECT p.key, array_agg(s.key ORDER BY s.key) FROM oncall_service_policies sp
JOIN escalation_policies p ON p.id = sp.policy_id JOIN services s ON s.id = sp.service_id
GROUP BY p.key
"""


def _target(row: Any) -> str:
    if row.email is not None:
        return f"user:{row.email}"
    if row.layer is not None:
        return f"layer:{row.schedule}/{row.layer}"
    return f"schedule:{row.schedule}"


async def document(session: AsyncSession) -> dict[str, Any]:
    schedules = []
    for stored in await service.load_many(session, around=service.EVERY_OVERRIDE):
        schedules.append(
            {
                "key": stored.schedule.key,
                "name": stored.name,
                "time_zone": stored.schedule.time_zone,
                "layers": [
                    {
                        "name": layer.name,
                        "start": layer.start.isoformat(timespec="minutes"),
                        "rotation": layer.rotation,
                        "users": list(layer.memberships[-1].users),
                        **({"time_zone": layer.time_zone} if layer.time_zone else {}),
                        "restrictions": [
                            {
                                "days": [WEEKDAYS[day] for day in sorted(r.weekdays)],
                                "start": r.start.isoformat(timespec="minutes"),
                                "end": r.end.isoformat(timespec="minutes"),
                            }
                            for r in layer.restrictions
                        ],
                    }
                    for layer in stored.schedule.layers
                ],
                "overrides": [
                    {"user": o.user, "start": o.start.isoformat(), "end": o.end.isoformat()}
                    for o in stored.schedule.overrides
                ],
            }
        )
    steps: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in await session.execute(text(_TARGETS)):
        step = steps[row.policy].setdefault(
            row.step, {"delay_minutes": row.delay_minutes, "targets": []}
        )
        step["targets"].append(_target(row))
    services: dict[str, list[str]] = {
        key: list(found) for key, found in await session.execute(text(_SERVICES))
    }
    policies = [
        {
            "key": key,
            "name": name,
            "repeat": repeat,
            "default": is_default,
            "services": list(services.get(key, [])),
            "steps": list(steps[key].values()),
        }
        for key, name, repeat, is_default in await session.execute(
            text("SELECT key, name, repeat, is_default FROM escalation_policies ORDER BY key")
        )
    ]
    return {"schedules": schedules, "escalation_policies": policies}
