"""What a release manager watches: the rollouts that are not finished and the stages that need
a person. From SQL a page at a time (active rollouts are few: the partial index of
``uq_rollouts_active_service`` finds them)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.db.pagination import Page
from vulnops.rollout.models import ACTIVE_VALUES
from vulnops.rollout.schemas import LiveRollout, StageAttention

_ACTIVE = (
    f"WHERE r.status IN ({ACTIVE_VALUES}) AND NOT (r.case_id = ANY(CAST(:hidden AS bigint[])))"
)

_LIVE = f"""
SELECT r.id, r.case_id, c.tracking_id, sv.key AS service, r.target_version, r.status,
       r.status_reason,
       (SELECT count(*) FROM rollout_stages s WHERE s.rollout_id = r.id) AS stages,
       cur.index AS stage, cur.kind AS stage_kind, coalesce(cur.regions, '{{}}') AS stage_regions,
       cur.status AS stage_status,
       (SELECT count(*) FROM rollout_units u WHERE u.rollout_id = r.id) AS units,
       (SELECT count(*) FROM rollout_units u
        WHERE u.rollout_id = r.id AND u.status = 'deployed') AS deployed
FROM rollouts r
JOIN services sv ON sv.id = r.service_id
JOIN cases c ON c.id = r.case_id
LEFT JOIN LATERAL (
    SELECT s.index, s.kind, s.regions, s.status FROM rollout_stages s
    WHERE s.rollout_id = r.id AND s.status <> 'passed' ORDER BY s.index LIMIT 1
) cur ON true
{_ACTIVE}
ORDER BY r.id DESC LIMIT :limit
"""  # noqa: S608 - our own constants

# A failed stage, a gate alerted for having had no verdict for long, or a stage holding
# because its health source does not answer.
_ATTENTION = f"""
FROM rollout_stages s
JOIN rollouts r ON r.id = s.rollout_id
JOIN services sv ON sv.id = r.service_id
JOIN cases c ON c.id = r.case_id
WHERE r.status IN ({ACTIVE_VALUES})
  AND (s.status = 'failed' OR s.alerted)
  AND NOT (r.case_id = ANY(CAST(:hidden AS bigint[])))
"""


async def live_rollouts(
    session: AsyncSession, *, viewer: Principal | None, per_page: int = 50
) -> Page[LiveRollout]:
    """Active rollouts, newest first, each with the stage it is at and its units deployed
    (those of cases hidden from ``viewer`` left out)."""
    hidden = {"hidden": await access.hidden_ids(session, viewer=viewer)}
    total = await session.scalar(text(f"SELECT count(*) FROM rollouts r {_ACTIVE}"), hidden)  # noqa: S608
    rows = await session.execute(text(_LIVE), {"limit": per_page, **hidden})
    items = [LiveRollout.model_validate(dict(row._mapping)) for row in rows]
    return Page(items, int(total or 0), 1, per_page)


async def stages_needing_attention(
    session: AsyncSession, *, viewer: Principal | None, per_page: int = 50
) -> Page[StageAttention]:
    """Failed stages of active rollouts, and those whose gate has held past the policy's
    ``hold_alert_after`` (alerted): a hold at a stage's first looks is the gate waiting for
    data, not a person's business. The longest waiting first."""
    hidden = {"hidden": await access.hidden_ids(session, viewer=viewer)}
    total = await session.scalar(text(f"SELECT count(*) {_ATTENTION}"), hidden)
    rows = await session.execute(
        text(
            "SELECT s.rollout_id, r.case_id, c.tracking_id, sv.key AS service, "
            "r.status AS rollout_status, s.index, s.kind, s.regions, s.status, s.verdict, "
            "s.verdict_reason, s.alerted, coalesce(s.finished_at, s.holding_since) AS since "
            f"{_ATTENTION} ORDER BY since NULLS LAST, s.rollout_id, s.index LIMIT :limit"
        ),
        {"limit": per_page, **hidden},
    )
    items = [StageAttention.model_validate(dict(row._mapping)) for row in rows]
    return Page(items, int(total or 0), 1, per_page)
