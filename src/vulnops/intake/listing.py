"""Finding reports: filtered, searched and paged in SQL, only those the viewer may see."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, UnaryExpression, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.errors import Invalid
from vulnops.intake.models import REPORTER_SPOKE_LAST, TEAM_ASKED, Report
from vulnops.intake.service import can_see_all
from vulnops.intake.states import CloseReason, ReportState, Source, Waiting, waiting_on

# A search for a tracking number looks it up; anything else searches the words.
TRACKING_ID = re.compile(r"^VULN-\d{4}-\d{1,9}$", re.IGNORECASE)
SORTS: dict[str, UnaryExpression[Any]] = {
    "received": Report.received_at.desc(),
    "-received": Report.received_at.asc(),
    "updated": Report.updated_at.desc(),
}


def waiting_of(report: Report) -> Waiting:
    """What the report waits for, and from whom (told to its reporter)."""
    return waiting_on(
        ReportState(report.state),
        close_reason=CloseReason(report.close_reason) if report.close_reason else None,
        team_spoke_at=report.last_staff_message_at,
        reporter_spoke_at=report.last_reporter_message_at,
    )


def _filtered(
    principal: Principal,
    *,
    state: ReportState | None,
    source: Source | None,
    service: str | None,
    case_id: int | None,
    awaiting_team: bool,
    awaiting_reporter: bool,
    search: str | None,
) -> Select[Report]:
    stmt = select(Report)
    if not can_see_all(principal):
        stmt = stmt.where(Report.reporter_id == principal.user_id)
    elif (hidden := access.hidden_case_ids(principal)) is not None:
        stmt = stmt.where(or_(Report.case_id.is_(None), Report.case_id.not_in(hidden)))
    if state is not None:
        stmt = stmt.where(Report.state == state.value)
    if source is not None:
        stmt = stmt.where(Report.source == source.value)
    if service:
        stmt = stmt.where(Report.service == service.strip().lower())
    if case_id is not None:
        stmt = stmt.where(Report.case_id == case_id)
    if awaiting_team:
        stmt = stmt.where(text(REPORTER_SPOKE_LAST))
    if awaiting_reporter:
        stmt = stmt.where(text(TEAM_ASKED))
    if search and search.strip():
        if TRACKING_ID.match(search.strip()):
            stmt = stmt.where(Report.tracking_id == search.strip().upper())
        else:
            stmt = stmt.where(
                Report.search.op("@@")(func.websearch_to_tsquery("english", search.strip()))
            )
    return stmt


async def list_reports(
    session: AsyncSession,
    *,
    principal: Principal,
    state: ReportState | None = None,
    source: Source | None = None,
    service: str | None = None,
    case_id: int | None = None,
    awaiting_team: bool = False,
    awaiting_reporter: bool = False,
    search: str | None = None,
    sort: str = "received",
    page: int = 1,
    per_page: int = 50,
) -> Page[Report]:
    """``awaiting_team``: open reports whose reporter wrote last (the team owes an answer:
    ``REPORTER_SPOKE_LAST``); ``awaiting_reporter``: the team asked for more and the reporter
    has not answered since (``TEAM_ASKED``)."""
    if sort not in SORTS:
        raise Invalid(f"sort: one of {', '.join(SORTS)}")
    stmt = _filtered(
        principal,
        state=state,
        source=source,
        service=service,
        case_id=case_id,
        awaiting_team=awaiting_team,
        awaiting_reporter=awaiting_reporter,
        search=search,
    ).order_by(SORTS[sort], Report.id.desc())
    return await paginate_scalars(session, stmt, page=page, per_page=per_page)
