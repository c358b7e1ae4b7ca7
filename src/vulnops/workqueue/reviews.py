"""The work queue's section of post-incident reviews: the action items a person owns, the
overdue ones first (they are due soonest)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from vulnops.review import actions
from vulnops.workqueue.context import SHOWN, Context, section
from vulnops.workqueue.schemas import QueueItem, QueueSection
from vulnops.workqueue.sections import SectionKey


async def my_action_items(ctx: Context) -> QueueSection:
    today = ctx.now.date()
    found = await actions.open_items(
        ctx.session,
        viewer=ctx.principal,
        today=today,
        owner_id=ctx.principal.user_id,
        per_page=SHOWN,
    )
    items = [
        QueueItem(
            label=item.tracking_id,
            title=item.title,
            href=f"/cases/{item.case_id}/review#action-items",
            detail=(
                f"overdue: it was due on {item.due:%Y-%m-%d}"
                if item.overdue
                else f"due on {item.due:%Y-%m-%d}"
            ),
            due=datetime.combine(item.due, time.min, tzinfo=UTC),
            tone="bad" if item.overdue else "",
        )
        for item in found.items
    ]
    return section(
        SectionKey.MY_ACTION_ITEMS,
        "My action items from reviews",
        found.total,
        items,
        more="/metrics",
        empty="No open action item is yours.",
    )
