"""The sections of those who ship and tell: my fixes, live rollouts, stages that need a
person, advisories not sent, customers' questions waiting, dead deliveries."""

from __future__ import annotations

from vulnops.cases import service as cases
from vulnops.durations import relative
from vulnops.notify import conversation, waiting
from vulnops.remediation import service as remediation
from vulnops.rollout import attention
from vulnops.workqueue.context import SHOWN, Context, section
from vulnops.workqueue.schemas import QueueItem, QueueSection
from vulnops.workqueue.sections import SectionKey


async def my_fixes(ctx: Context) -> QueueSection:
    found = await remediation.fixes_by(ctx.session, viewer=ctx.principal, per_page=SHOWN)
    views = await remediation.fix_views(ctx.session, list(found.items))
    ids = await cases.tracking_ids(ctx.session, case_ids={f.case_id for f in views})
    items = [
        QueueItem(
            label=ids.get(view.case_id, ""),
            title=f"{view.service} {view.version}",
            href=f"/cases/{view.case_id}/fixes",
            detail=(
                "ready to roll out" + (" (evidence overridden)" if view.override_reason else "")
                if view.ready
                else "not ready: " + "; ".join(view.missing)
            ),
            tone="good" if view.ready else "warn",
        )
        for view in views
    ]
    return section(
        SectionKey.MY_FIXES,
        "My fixes in open cases",
        found.total,
        items,
        more=None,
        empty="You have made no fix for an open case.",
    )


async def live_rollouts(ctx: Context) -> QueueSection:
    found = await attention.live_rollouts(ctx.session, viewer=ctx.principal, per_page=SHOWN)
    items = []
    for r in found.items:
        where = (
            f"stage {r.stage + 1} of {r.stages} ({r.stage_kind}, {', '.join(r.stage_regions)}) "
            f"{r.stage_status}"
            if r.stage is not None
            else f"{r.stages} stages passed"
        )
        items.append(
            QueueItem(
                label=f"Rollout #{r.id}",
                title=f"{r.service} {r.target_version} for {r.tracking_id}",
                href=f"/rollouts/{r.id}",
                detail=f"{r.status.replace('_', ' ')}: {where}; {r.deployed} of {r.units} units "
                "updated",
                tone="bad" if r.status in {"halted", "rolling_back"} else "",
            )
        )
    return section(
        SectionKey.LIVE_ROLLOUTS,
        "Live rollouts",
        found.total,
        items,
        more="/rollouts?status=active",
        empty="No rollout is running.",
    )


async def stages(ctx: Context) -> QueueSection:
    found = await attention.stages_needing_attention(
        ctx.session, viewer=ctx.principal, per_page=SHOWN
    )
    items = []
    for s in found.items:
        what = "failed" if s.status == "failed" else "has had no verdict for too long"
        since = f" since {relative(s.since, ctx.now)}" if s.since else ""
        items.append(
            QueueItem(
                label=f"Rollout #{s.rollout_id}",
                title=f"Stage {s.index + 1} ({s.kind}, {', '.join(s.regions)}) of {s.service} "
                f"for {s.tracking_id}",
                href=f"/rollouts/{s.rollout_id}",
                detail=f"{what}{since}: {s.verdict_reason or 'no reason recorded'}",
                tone="bad" if s.status == "failed" else "warn",
            )
        )
    return section(
        SectionKey.STAGES,
        "Stages that need a person",
        found.total,
        items,
        more="/rollouts?status=active",
        empty="No stage has failed or held too long.",
    )


async def unsent_advisories(ctx: Context) -> QueueSection:
    found = await waiting.unsent_versions(ctx.session, viewer=ctx.principal, per_page=SHOWN)
    items = [
        QueueItem(
            label=v.tracking_id,
            title=f"Version {v.number}: {v.title}",
            href=f"/cases/{v.case_id}/advisory",
            detail=(
                f"approved by {v.approved_by}; waiting to be sent"
                if v.status == "approved"
                else f"draft by {v.created_by} {relative(v.created_at, ctx.now)}; waiting for "
                "approval"
            ),
            tone="warn" if v.status == "approved" else "",
        )
        for v in found.items
    ]
    return section(
        SectionKey.UNSENT_ADVISORIES,
        "Advisories not sent yet",
        found.total,
        items,
        more=None,
        empty="Every advisory version is sent.",
    )


async def dead_deliveries(ctx: Context) -> QueueSection:
    total, advisories = await waiting.dead_deliveries(
        ctx.session, viewer=ctx.principal, per_page=SHOWN
    )
    items = [
        QueueItem(
            label=d.tracking_id,
            title=f"{d.dead} dead deliveries to {d.tenants} tenants",
            href=f"/notifications/deliveries?status=dead&advisory={d.advisory_id}",
            detail=f"since {relative(d.since, ctx.now)}: {d.last_error or 'no error recorded'}",
            tone="bad",
        )
        for d in advisories
    ]
    return section(
        SectionKey.DEAD_DELIVERIES,
        "Dead deliveries",
        total,
        items,
        more="/notifications/deliveries?status=dead",
        empty="No delivery has given up.",
    )


async def customer_questions(ctx: Context) -> QueueSection:
    found = await conversation.waiting(
        ctx.session, viewer=ctx.principal, now=ctx.now, per_page=SHOWN
    )
    items = [
        QueueItem(
            label=q.tracking_id,
            title=f"{q.tenant_name} asked about the advisory",
            href=f"/cases/{q.case_id}/advisory/conversations/{q.tenant_id}",
            detail=(
                f"overdue: the answer was due {relative(q.answer_due, ctx.now)}"
                if q.overdue
                else f"asked {relative(q.waiting_since, ctx.now)}; answer by "
                f"{q.answer_due:%Y-%m-%d %H:%M} UTC"
            ),
            due=q.answer_due,
            tone="bad" if q.overdue else "warn",
        )
        for q in found.items
    ]
    return section(
        SectionKey.CUSTOMER_QUESTIONS,
        "Customers' questions waiting for an answer",
        found.total,
        items,
        more=None,
        empty="No customer waits for an answer.",
    )
