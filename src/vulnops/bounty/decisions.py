"""Award decisions: proposed from the table when a report is reproduced and assessed, adjusted by
a person with a reason, approved by a second person above the configured amount, and granted into
the ledger — one ledger transaction per co-reporter, keyed by the award, so a retried grant never
pays twice. Callers commit.

The award is decided at reproduction, not at the fix (MSRC's rule): a report qualifies once
triaged. What is refused is refused with its reason and writes nothing: a report no programme
covers, a duplicate under a policy that pays duplicates nothing, a combination the table does not
reward, a second award for one report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.bounty import awards, ledger, programs
from vulnops.bounty.awards import Assessment, AwardPolicy, Standing
from vulnops.bounty.models import BountyAward
from vulnops.bounty.schemas import AwardView, ListedAward
from vulnops.bounty.tables import TableError, money, parse_table
from vulnops.cases import access
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.db.writes import add_unique
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.intake.models import Report
from vulnops.intake.states import ReportState
from vulnops.settings import Settings

ASSESSED = frozenset(
    {ReportState.TRIAGED, ReportState.ACCEPTED, ReportState.RESOLVED, ReportState.PUBLISHED}
)


def view(award: BountyAward) -> AwardView:
    return AwardView(
        id=award.id,
        report_id=award.report_id,
        program=award.program,
        status=award.status,
        proposed_amount=award.proposed_amount,
        amount=award.amount,
        currency=award.currency,
        impact=award.impact,
        severity=award.severity,
        quality=award.quality,
        scenarios=list(award.scenarios),
        reasons=list(award.reasons),
        adjustment_reason=award.adjustment_reason,
        split={int(who): part for who, part in award.split.items()},
        table_version=int(award.table_snapshot["version"]),
        proposed_by=award.proposed_by,
        decided_by=award.decided_by,
        decided_at=award.decided_at,
    )


def _subject(award: BountyAward) -> str:
    return f"bounty_award:{award.id}"


async def _award(session: AsyncSession, award_id: int, *, lock: bool = False) -> BountyAward:
    query = select(BountyAward).where(BountyAward.id == award_id)
    found = await session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no award {award_id}")
    return found


async def for_report(session: AsyncSession, *, report_id: int) -> AwardView | None:
    """The report's award, if it has one."""
    found = await session.scalar(select(BountyAward).where(BountyAward.report_id == report_id))
    return None if found is None else view(found)


async def propose(
    session: AsyncSession,
    *,
    report_id: int,
    assessment: Assessment,
    actor: str,
    settings: Settings,
    now: datetime,
    co_reporters: Mapping[int, Fraction] | None = None,
    known_internally: bool = False,
) -> AwardView:
    """The table's proposal for the report, stored as ``proposed`` with the table it used."""
    report = await session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report {report_id}")
    if report.reporter_id is None:
        raise Invalid("only a researcher's report earns an award: this one has no reporter")
    if ReportState(report.state) not in ASSESSED:
        raise Invalid(f"the report is {report.state}: an award is decided once it is triaged")
    shares = dict(co_reporters or {report.reporter_id: Fraction(1)})
    if report.reporter_id not in shares:
        raise Invalid("co_reporters: the reporter must be among them")
    if any(share <= 0 for share in shares.values()) or sum(shares.values()) != 1:
        raise Invalid("co_reporters: the shares must be positive and add up to 1")
    candidates = await programs.eligible(session, service=report.service, now=now)
    if not candidates:
        raise Invalid(
            f"out of scope: no active programme covers {report.service or 'reports without a'}"
            f"{' service' if not report.service else ''}: no award"
        )
    policy = AwardPolicy(
        pay_when_known_internally=settings.bounty_pay_when_known_internally,
        duplicate_share=settings.duplicate_share,
    )
    duplicate = report.duplicate_of_id is not None
    if duplicate and policy.duplicate_share == 0:
        raise Invalid(
            "the report duplicates an earlier one and the policy pays duplicates nothing"
            " (VULNOPS_BOUNTY_DUPLICATE_SHARE): no award"
        )
    tables = [programs.table_of(p) for p in candidates]
    try:
        proposal = awards.propose(
            tables,
            assessment,
            shares={str(who): share for who, share in shares.items()},
            standing=Standing(
                external_rank=2 if duplicate else 1, known_internally=known_internally
            ),
            policy=policy,
        )
    except TableError as error:  # an impact, severity, quality or scenario the table lacks
        raise Invalid(str(error)) from None
    if proposal.amount == 0 or proposal.table is None:
        raise Invalid("no award: " + "; ".join(proposal.reasons))
    program, table = next(
        (p, t) for p, t in zip(candidates, tables, strict=True) if t.key == proposal.table
    )
    award = BountyAward(
        report_id=report.id,
        program=program.key,
        status="proposed",
        proposed_amount=proposal.amount,
        amount=proposal.amount,
        currency=proposal.currency,
        impact=assessment.impact,
        severity=assessment.severity,
        quality=assessment.quality,
        scenarios=list(assessment.scenarios),
        reasons=list(proposal.reasons),
        split=proposal.split,
        table_snapshot=dict(table.document),
        proposed_by=actor,
    )
    await add_unique(session, award, conflict=f"report {report.tracking_id} already has an award")
    await audit.record(
        session,
        subject=f"report:{report.id}",
        kind="bounty.award_proposed",
        actor=actor,
        data={"award": award.id, "amount": award.amount, "currency": award.currency},
    )
    return view(award)


async def adjust(
    session: AsyncSession, *, award_id: int, amount: int, reason: str, actor: str
) -> AwardView:
    """Set the amount by hand, with the reason; within the snapshotted table's bounds."""
    award = await _award(session, award_id, lock=True)
    if award.status != "proposed":
        raise Conflict(f"the award is {award.status}: only a proposed award can be adjusted")
    if not reason.strip():
        raise Invalid("reason: say why the amount differs from the table's")
    table = parse_table(award.table_snapshot)
    if not table.minimum <= amount <= table.maximum:
        raise Invalid(
            f"amount: {money(amount, award.currency)} is outside the table's bounds "
            f"({money(table.minimum, award.currency)} to {money(table.maximum, award.currency)})"
        )
    total = sum(award.split.values()) or 1
    shares = {who: Fraction(part, total) for who, part in award.split.items()}
    if not any(shares.values()):  # an award of 0 split nothing: share it out evenly again
        shares = {who: Fraction(1, len(shares)) for who in shares}
    award.amount, award.adjustment_reason = amount, reason.strip()
    award.split = awards.split(amount, shares)
    await session.flush()
    await audit.record(
        session,
        subject=f"report:{award.report_id}",
        kind="bounty.award_adjusted",
        actor=actor,
        data={"award": award.id, "amount": amount, "reason": award.adjustment_reason},
    )
    return view(award)


async def _grant(session: AsyncSession, award: BountyAward, *, actor: str, now: datetime) -> None:
    for researcher, part in award.split.items():
        if part:
            await ledger.grant(
                session,
                key=f"award:{award.id}:{researcher}",
                researcher_id=int(researcher),
                program=award.program,
                amount=part,
                currency=award.currency,
                actor=actor,
                reference=f"award {award.id}",
            )
    award.status, award.decided_by, award.decided_at = "approved", actor, now
    await session.flush()
    severities = list(award.table_snapshot.get("severities", []))
    await audit.record(
        session,
        subject=f"report:{award.report_id}",
        kind="bounty.award_granted",
        actor=actor,
        data={
            "award": award.id,
            "report": award.report_id,
            "researchers": [int(r) for r, part in award.split.items() if part],
            "severity_rank": severities.index(award.severity),
        },
    )


async def submit(
    session: AsyncSession, *, award_id: int, actor: str, settings: Settings, now: datetime
) -> AwardView:
    """Grant the award, or — above its table's ``approval_above`` (in the table's currency),
    else ``bounty_approval_above``, when awards need four eyes — ask a second person to
    approve it."""
    award = await _award(session, award_id, lock=True)
    if award.status != "proposed":
        raise Conflict(f"the award is {award.status}, not proposed")
    report = await session.get(Report, award.report_id)
    assert report is not None
    threshold = parse_table(award.table_snapshot, source="the award's table").approval_above
    if threshold is None:
        threshold = settings.bounty_approval_above
    needs_approval = award.amount > threshold and (
        approvals.needs_second_person(settings, Step.BOUNTY_AWARD)
    )
    if needs_approval:
        summary = f"{money(award.amount, award.currency)} for report {report.tracking_id}"
        # Who proposed it and who submits it are both its authors: neither approves it.
        for author in dict.fromkeys([award.proposed_by, actor]):
            await approvals.request(
                session,
                step=Step.BOUNTY_AWARD,
                subject=_subject(award),
                summary=summary,
                author=author,
                case_id=report.case_id,
            )
        award.status = "pending_approval"
        await session.flush()
    else:
        await _grant(session, award, actor=actor, now=now)
    await audit.record(
        session,
        subject=f"report:{award.report_id}",
        kind="bounty.award_submitted",
        actor=actor,
        data={"award": award.id, "status": award.status},
    )
    return view(award)


async def decide(
    session: AsyncSession,
    *,
    award_id: int,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> AwardView:
    """A second person approves (the award is granted) or rejects (with the reason) it."""
    award = await _award(session, award_id, lock=True)
    if award.status != "pending_approval":
        raise Conflict(f"the award is {award.status}: nothing waits for approval")
    await approvals.decide(
        session,
        subject=_subject(award),
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=now,
    )
    if approve:
        await _grant(session, award, actor=actor, now=now)
    else:
        award.status, award.decided_by, award.decided_at = "rejected", actor, now
        await session.flush()
    return view(award)


async def list_awards(
    session: AsyncSession, *, viewer: Principal, statuses: Sequence[str], page: int
) -> Page[ListedAward]:
    """Awards in ``statuses`` the viewer may see (a restricted case's are its team's), oldest
    first: what waits longest comes first."""
    query = (
        select(BountyAward)
        .join(Report, Report.id == BountyAward.report_id)
        .where(BountyAward.status.in_(list(statuses)))
        .order_by(BountyAward.created_at, BountyAward.id)
    )
    hidden = access.hidden_case_ids(viewer)
    if hidden is not None:
        query = query.where(or_(Report.case_id.is_(None), Report.case_id.not_in(hidden)))
    found = await paginate_scalars(session, query, page=page, per_page=50)
    reports = {
        row.id: row
        for row in await session.execute(
            select(Report.id, Report.tracking_id, Report.title).where(
                Report.id.in_([a.report_id for a in found.items])
            )
        )
    }
    return found.map(
        lambda a: ListedAward(
            award=view(a),
            tracking_id=reports[a.report_id].tracking_id,
            title=reports[a.report_id].title,
        )
    )
