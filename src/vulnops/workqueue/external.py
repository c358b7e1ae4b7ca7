"""The sections of people outside the team: a customer's advisories to acknowledge, a
researcher's reports and what each waits for."""

from __future__ import annotations

from vulnops.durations import relative
from vulnops.intake import listing as reports
from vulnops.intake.models import Report
from vulnops.intake.states import Turn
from vulnops.notify import portal
from vulnops.workqueue.context import SHOWN, Context, section
from vulnops.workqueue.responders import report_item
from vulnops.workqueue.schemas import QueueItem, QueueSection
from vulnops.workqueue.sections import SectionKey


async def unacknowledged(ctx: Context) -> QueueSection:
    tenant_id = ctx.principal.tenant_id
    if tenant_id is None:
        return section(
            SectionKey.UNACKNOWLEDGED,
            "Advisories to acknowledge",
            0,
            [],
            more=None,
            empty="Your account belongs to no tenant.",
        )
    found = await portal.tenant_advisories(
        ctx.session, tenant_id=tenant_id, unacknowledged=True, per_page=SHOWN
    )
    items = [
        QueueItem(
            label=a["tracking_id"],
            title=a["title"],
            href=f"/advisories/{a['id']}",
            detail=(
                ("you must act; " if a["action_required"] else "")
                + f"version {a['number']}, sent {relative(a['sent_at'], ctx.now)}: please "
                "read and acknowledge it"
            ),
            tone="bad" if a["action_required"] else "warn",
        )
        for a in found.items
    ]
    return section(
        SectionKey.UNACKNOWLEDGED,
        "Advisories to acknowledge",
        found.total,
        items,
        more="/advisories?unacknowledged=1",
        empty="Every advisory is acknowledged.",
    )


def _with_waiting(report: Report) -> QueueItem:
    status = reports.waiting_of(report)
    return report_item(report, status.sentence, "warn" if status.on is Turn.REPORTER else "")


async def asked_of_me(ctx: Context) -> QueueSection:
    found = await reports.list_reports(
        ctx.session, principal=ctx.principal, awaiting_reporter=True, sort="updated", per_page=SHOWN
    )
    return section(
        SectionKey.ASKED_OF_ME,
        "Waiting for your answer",
        found.total,
        [_with_waiting(r) for r in found.items],
        more="/reports?asked=1&sort=updated",
        empty="The team is not waiting for anything from you.",
    )


async def my_reports(ctx: Context) -> QueueSection:
    found = await reports.list_reports(
        ctx.session, principal=ctx.principal, sort="updated", per_page=SHOWN
    )
    return section(
        SectionKey.MY_REPORTS,
        "My reports and what each waits for",
        found.total,
        [_with_waiting(r) for r in found.items],
        more="/reports?sort=updated",
        empty="You have not reported anything yet: submit a report to start.",
    )
