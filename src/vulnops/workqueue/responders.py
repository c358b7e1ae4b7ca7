"""The responders' sections: cases past a deadline, my cases, approvals waiting for me, new
reports and reporters waiting for an answer."""

from __future__ import annotations

from datetime import datetime

from vulnops.approvals import service as approvals
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.durations import humanize, relative
from vulnops.intake import listing as reports
from vulnops.intake.models import Report
from vulnops.intake.states import ReportState
from vulnops.workqueue.context import SHOWN, Context, section
from vulnops.workqueue.schemas import QueueItem, QueueSection, Tone
from vulnops.workqueue.sections import SectionKey


def _deadline(case: Case, now: datetime) -> tuple[str, datetime | None, bool]:
    """The case's next deadline as a sentence, its time, and whether it has passed."""
    steps = (
        ("acknowledge", case.acknowledge_due, case.acknowledged_at),
        ("triage", case.triage_due, case.triaged_at),
        ("mitigate", case.mitigate_due, case.mitigated_at),
    )
    unmet = [(due, name) for name, due, done in steps if due is not None and done is None]
    if case.next_due is None or not unmet:
        return "no deadline running", None, False
    due, name = min(unmet)
    if due <= now:
        return f"{name} overdue by {humanize(now - due)}", due, True
    return f"{name} due {relative(due, now)}", due, False


def _case_item(case: Case, now: datetime) -> QueueItem:
    sentence, due, late = _deadline(case, now)
    rating = case.rating or "unrated"
    return QueueItem(
        label=case.tracking_id,
        title=case.title,
        href=f"/cases/{case.id}",
        detail=f"{rating}, {case.state.replace('_', ' ')}: {sentence}",
        due=due,
        tone="bad" if late else ("warn" if due is not None else ""),
    )


async def breaches(ctx: Context) -> QueueSection:
    found = await cases.list_cases(
        ctx.session,
        viewer=ctx.principal,
        now=ctx.now,
        overdue=True,
        sort="due",
        per_page=SHOWN,
    )
    return section(
        SectionKey.BREACHES,
        "Deadlines passed",
        found.total,
        [_case_item(case, ctx.now) for case in found.items],
        more="/cases?overdue=1&sort=due",
        empty="No case is past a deadline.",
    )


async def my_cases(ctx: Context) -> QueueSection:
    found = await cases.list_cases(
        ctx.session,
        viewer=ctx.principal,
        now=ctx.now,
        assigned_to=ctx.principal.user_id,
        open_only=True,
        sort="due",
        per_page=SHOWN,
    )
    return section(
        SectionKey.MY_CASES,
        "My cases, nearest deadline first",
        found.total,
        [_case_item(case, ctx.now) for case in found.items],
        more="/cases?mine=1&sort=due",
        empty="No open case is yours (you own or respond to none).",
    )


async def my_approvals(ctx: Context) -> QueueSection:
    found = await approvals.waiting_for(
        ctx.session,
        viewer=ctx.principal,
        settings=ctx.settings,
        per_page=SHOWN,
    )
    items = [
        QueueItem(
            label=approvals.LABELS[approvals.Step(a.step)],
            title=a.summary,
            href=approvals.page_of(a),
            detail=f"asked by {a.requested_by} {relative(a.requested_at, ctx.now)}",
        )
        for a in found.items
    ]
    return section(
        SectionKey.MY_APPROVALS,
        "Waiting for my approval",
        found.total,
        items,
        more="/approvals?mine=1",
        empty="Nothing waits for your approval.",
    )


def report_item(report: Report, detail: str, tone: Tone = "") -> QueueItem:
    return QueueItem(
        label=report.tracking_id,
        title=report.title,
        href=f"/reports/{report.id}",
        detail=detail,
        tone=tone,
    )


async def new_reports(ctx: Context) -> QueueSection:
    found = await reports.list_reports(
        ctx.session,
        principal=ctx.principal,
        state=ReportState.NEW,
        sort="-received",
        per_page=SHOWN,
    )
    items = [
        report_item(
            r,
            f"{r.source} report on {r.service or 'no service'}, received "
            f"{relative(r.received_at, ctx.now)}",
        )
        for r in found.items
    ]
    return section(
        SectionKey.NEW_REPORTS,
        "New reports nobody has triaged, oldest first",
        found.total,
        items,
        more="/reports?state=new&sort=-received",
        empty="Every report is triaged.",
    )


async def reporters_waiting(ctx: Context) -> QueueSection:
    found = await reports.list_reports(
        ctx.session, principal=ctx.principal, awaiting_team=True, sort="updated", per_page=SHOWN
    )
    items = [
        report_item(
            r,
            f"the reporter wrote {relative(r.last_reporter_message_at, ctx.now)}"
            if r.last_reporter_message_at
            else "the reporter wrote",
            "warn",
        )
        for r in found.items
    ]
    return section(
        SectionKey.REPORTERS_WAITING,
        "Reporters waiting for an answer",
        found.total,
        items,
        more="/reports?waiting=1&sort=updated",
        empty="No reporter waits for an answer.",
    )
