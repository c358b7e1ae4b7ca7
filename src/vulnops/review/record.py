"""A review's record: what it says that comes from the facts the other domains keep — the
milestones and the event log, the deadlines, the exposure of every tenant, the customers'
reception of the advisory, the root cause and variants, the bounty award.

Generated afresh while the review is a draft; kept as it was when the review is published.
Who reads it decides one thing only: outside the case's team, no tenant is named
(:func:`for_viewer`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.audit.narrate import kinds_shown, narrate
from vulnops.bounty import decisions as bounty
from vulnops.bounty.tables import money
from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.deadlines import DEADLINES
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone
from vulnops.fleet import blast
from vulnops.intake import service as intake
from vulnops.notify.reception import reception
from vulnops.review.measures import METRICS, POINT_LABELS, Point, durations, hours
from vulnops.review.schemas import (
    BountyOut,
    CustomerComment,
    CustomerFeedbackOut,
    CustomerQuestion,
    CustomerQuestionsOut,
    DeadlineOut,
    DeadlineStatus,
    DurationOut,
    ExposureOut,
    ExposureRow,
    PointTime,
    ReviewRecord,
    TimelineEntry,
)
from vulnops.rollout import service as rollouts
from vulnops.variants import links, rootcause

EXPOSURE_ROWS = 200
FINISHED = (Milestone.CLOSED, Milestone.REJECTED)


async def points(session: AsyncSession, *, case_id: int) -> dict[Point, datetime]:
    """The times of the case's points (its milestones, not skipped, and the two facts of other
    domains :mod:`vulnops.review.measures` names)."""
    reached = await milestones.reached(session, case_id=case_id)
    found = {
        Point(m.value): view.at
        for m, view in reached.items()
        if m.value in Point.__members__.values() and not view.skipped
    }
    if (first := await rollouts.first_unit_at(session, case_id=case_id)) is not None:
        found[Point.FIRST_UNIT] = first
    _, children = await links.related(session, case_id=case_id, viewer=None)
    ends = []
    for child in children:
        theirs = await milestones.reached(session, case_id=child.case_id)
        ends.append(next((theirs[m].at for m in FINISHED if m in theirs), None))
    if ends and all(end is not None for end in ends):
        found[Point.LAST_VARIANT_CLOSED] = max(end for end in ends if end is not None)
    return found


def _point_times(times: dict[Point, datetime], actors: dict[str, str]) -> list[PointTime]:
    shown, previous = [], None
    for point in sorted(times, key=lambda p: (times[p], list(Point).index(p))):
        at = times[point]
        shown.append(
            PointTime(
                point=point,
                label=POINT_LABELS[point],
                at=at,
                actor=actors.get(point.value),
                hours_since_previous=hours(previous, at),
            )
        )
        previous = at
    return shown


def deadline_status(due: datetime | None, met: datetime | None, now: datetime) -> DeadlineStatus:
    if due is None:
        return "met" if met is not None else "none"
    if met is not None:
        return "met" if met <= due else "missed"
    return "missed" if now > due else "open"


def _deadlines(case: Case, now: datetime) -> list[DeadlineOut]:
    found = []
    for deadline, at_column, due_column in DEADLINES.values():
        due, met = getattr(case, due_column), getattr(case, at_column)
        found.append(
            DeadlineOut(
                name=deadline.value, due=due, met_at=met, status=deadline_status(due, met, now)
            )
        )
    return found


async def _exposure(
    session: AsyncSession,
    *,
    case_id: int,
    since: datetime | None,
    source: str,
    mitigated: datetime | None,
    now: datetime,
) -> ExposureOut:
    """Per service and tenant: exposed from ``since`` until the fix reached the last of the
    tenant's units of that service (still exposed: until now), summed as tenant-hours. A unit
    no rollout reached is safe from the case's mitigation, when it was mitigated without one
    (a configuration change is everywhere at once)."""
    if await blast.find(session, case_id=case_id) is None:
        return ExposureOut(
            since=None,
            since_from="none",
            tenants=0,
            services=0,
            still_exposed=0,
            tenant_hours=0.0,
            rows=[],
        )
    found = await blast.tenant_units(session, case_id=case_id)
    fixed = await rollouts.fixed_since(
        session, case_id=case_id, unit_ids=sorted({row.unit_id for row in found})
    )
    pairs: dict[tuple[str, int], list[blast.TenantUnit]] = defaultdict(list)
    for row in found:
        pairs[(row.service, row.tenant_id)].append(row)
    rows = []
    for (service, tenant_id), units in pairs.items():
        ends = [fixed.get(unit.unit_id) or mitigated for unit in units]
        until = None if any(end is None for end in ends) else max(e for e in ends if e)
        exposed = hours(since, until or now) if since is not None else 0.0
        rows.append(
            ExposureRow(
                service=service,
                tenant_id=tenant_id,
                tenant=units[0].tenant,
                units=len(units),
                resources=sum(unit.resources for unit in units),
                since=since or now,
                until=until,
                hours=exposed or 0.0,
            )
        )
    rows.sort(key=lambda r: (-r.hours, r.service, r.tenant))
    return ExposureOut(
        since=since,
        since_from="none" if since is None else source,
        tenants=len({r.tenant_id for r in rows}),
        services=len({r.service for r in rows}),
        still_exposed=sum(1 for r in rows if r.until is None),
        tenant_hours=round(sum(r.hours for r in rows), 2),
        rows=rows[:EXPOSURE_ROWS],
    )


async def _bounty(session: AsyncSession, *, case_id: int) -> list[BountyOut]:
    found = []
    for report in await intake.reports_of_case(session, case_id=case_id):
        award = await bounty.for_report(session, report_id=report.id)
        if award is not None:
            found.append(
                BountyOut(
                    report=report.tracking_id,
                    status=award.status,
                    amount=money(award.amount, award.currency),
                )
            )
    return found


async def generate(session: AsyncSession, *, case_id: int, now: datetime) -> ReviewRecord:
    """The record as the system sees it (every tenant named, every variant listed)."""
    case = await cases.get_case(session, case_id=case_id)
    times = await points(session, case_id=case.id)
    reached = await milestones.reached(session, case_id=case.id)
    actors = {m.value: view.actor for m, view in reached.items()}
    events = await audit.events_for(
        session, subject=cases.subject(case), kinds=kinds_shown(None, details=False) or []
    )
    told = narrate(events, names={cases.subject(case): case.tracking_id})
    received = await reception(session, case_id=case.id)
    since, source = (
        (received.exposed_since, "advisory")
        if received.exposed_since is not None
        else (times.get(Point.REPORTED), "report")
    )
    answered = sum(received.ratings)
    measured = durations(times)
    _, children = await links.related(session, case_id=case.id, viewer=None)
    return ReviewRecord(
        generated_at=now,
        points=_point_times(times, actors),
        durations=[
            DurationOut(key=m.key, label=m.label, start=m.start, end=m.end, hours=measured[m.key])
            for m in METRICS
        ],
        deadlines=_deadlines(case, now),
        timeline=[
            TimelineEntry(
                at=line.at, sentence=line.sentence, tone=line.tone, kind=line.kind, actor=line.actor
            )
            for line in told
        ],
        exposure=await _exposure(
            session,
            case_id=case.id,
            since=since,
            source=source,
            mitigated=times.get(Point.MITIGATED),
            now=now,
        ),
        customers=CustomerFeedbackOut(
            recipients=received.recipients,
            acknowledged=received.acknowledged,
            acknowledgment_rate=(
                received.acknowledged / received.recipients if received.recipients else None
            ),
            median_hours_to_acknowledge=received.median_hours_to_acknowledge,
            ratings=list(received.ratings),
            average_rating=(
                sum((i + 1) * n for i, n in enumerate(received.ratings)) / answered
                if answered
                else None
            ),
            comments=[
                CustomerComment(
                    tenant_id=c.tenant_id,
                    tenant=c.tenant,
                    rating=c.rating,
                    comment=c.comment,
                    given_at=c.given_at,
                )
                for c in received.comments
            ],
            questions=CustomerQuestionsOut(
                asked=received.questions.asked,
                tenants=received.questions.tenants,
                answered=received.questions.answered,
                median_hours_to_answer=received.questions.median_hours_to_answer,
                longest_hours_to_answer=received.questions.longest_hours_to_answer,
                quoted=[
                    CustomerQuestion(
                        tenant_id=q.tenant_id,
                        tenant=q.tenant,
                        body=q.body,
                        asked_at=q.asked_at,
                        answered_at=q.answered_at,
                    )
                    for q in received.questions.quoted
                ],
            ),
        ),
        root_cause=await rootcause.view(session, case_id=case.id, today=now.date()),
        variants=children,
        bounty=await _bounty(session, case_id=case.id),
    )


def for_viewer(record: ReviewRecord, *, names_tenants: bool, hidden: set[int]) -> ReviewRecord:
    """The record as one viewer may read it: outside the case's team every tenant is "customer
    N" (numbered the same way in every section), the customers' questions are counted but not
    quoted, and variants the viewer may not see are left out."""
    variants = [v for v in record.variants if v.case_id not in hidden]
    if names_tenants:
        return record.model_copy(update={"variants": variants})
    ids = sorted(
        {r.tenant_id for r in record.exposure.rows}
        | {c.tenant_id for c in record.customers.comments}
    )
    label = {tenant_id: f"customer {n}" for n, tenant_id in enumerate(ids, start=1)}
    exposure = record.exposure.model_copy(
        update={
            "rows": [
                r.model_copy(update={"tenant": label[r.tenant_id], "tenant_id": 0})
                for r in record.exposure.rows
            ]
        }
    )
    customers = record.customers.model_copy(
        update={
            "comments": [
                c.model_copy(update={"tenant": label[c.tenant_id], "tenant_id": 0})
                for c in record.customers.comments
            ],
            "questions": record.customers.questions.model_copy(update={"quoted": []}),
        }
    )
    return record.model_copy(
        update={"exposure": exposure, "customers": customers, "variants": variants}
    )
