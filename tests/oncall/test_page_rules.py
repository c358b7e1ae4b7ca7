"""The rules that page besides a case's rating: a deadline 75% through its time with its
milestone not reached (once per case and milestone, never after the deadline, never for a
milestone reached) and a rollout that needs a person (one open page per rollout) — a
need-to-know case's page naming only its tracking id. (A failed stage, from the controller, is
in tests/rollout/test_controller.py; dead deliveries in tests/notify/test_delivery.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from vulnops.cases import service as cases
from vulnops.db.database import Database
from vulnops.fleet.models import Service
from vulnops.oncall import rules
from vulnops.rollout.events import RolloutNeedsAttention
from vulnops.settings import Settings

START = datetime(2027, 3, 10, 0, 0, tzinfo=UTC)


async def _case(db: Database, settings: Settings, *, title: str, restricted: bool = False) -> int:
    """A low case (it does not page on its rating) whose triage is due 8 hours after START and
    whose acknowledgment was made."""
    async with db.session() as session:
        case = await cases.open_case(
            session,
            title=title,
            summary="s",
            services=["identity"],
            actor="t",
            settings=settings,
            now=START,
        )
        await session.execute(
            text(
                "UPDATE cases SET started_at = :start, acknowledged_at = :start, "
                "acknowledge_due = :start + interval '1 hour', "
                "triage_due = :start + interval '8 hours', mitigate_due = NULL, "
                "restricted = :restricted WHERE id = :id"
            ),
            {"start": START, "id": case.id, "restricted": restricted},
        )
        await session.commit()
    return case.id


async def _sweep(db: Database, settings: Settings, at: datetime) -> int:
    async with db.session() as session:
        raised = await rules.page_deadlines(session, now=at, settings=settings)
        await session.commit()
    return raised


async def _pages(db: Database) -> list[tuple[str, str, int]]:
    async with db.session() as session:
        rows = await session.execute(text("SELECT dedup_key, subject, case_id FROM pages"))
    return [(key, subject, case_id) for key, subject, case_id in rows.all()]


async def test_a_deadline_pages_once_at_three_quarters_of_its_time(
    db: Database, oncall: None, settings: Settings
) -> None:
    case_id = await _case(db, settings, title="Session fixation in the console")
    # 5h59 of 8h: not yet; at 6h (75%) it pages; the next sweeps do not page again.
    assert await _sweep(db, settings, START + timedelta(hours=5, minutes=59)) == 0
    assert await _sweep(db, settings, START + timedelta(hours=6)) == 1
    assert await _sweep(db, settings, START + timedelta(hours=6, minutes=1)) == 0
    [(key, subject, paged_case)] = await _pages(db)
    assert (key, paged_case) == (f"deadline:{case_id}:triage", case_id)
    assert "must be triaged within 120 minutes: Session fixation" in subject
    # Resolved, it still does not page again for the same milestone.
    async with db.session() as session:
        await session.execute(text("UPDATE pages SET status = 'resolved'"))
        await session.commit()
    assert await _sweep(db, settings, START + timedelta(hours=7)) == 0


async def test_no_page_after_the_deadline_for_a_milestone_reached_or_when_off(
    db: Database, oncall: None, settings: Settings
) -> None:
    late = await _case(db, settings, title="Late")
    reached = await _case(db, settings, title="Reached")
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET triaged_at = :at WHERE id = :id"),
            {"at": START + timedelta(hours=1), "id": reached},
        )
        await session.commit()
    # Past the deadline: the SLA sweep records the breach; the warning is for before it.
    assert await _sweep(db, settings, START + timedelta(hours=9)) == 0
    off = settings.model_copy(update={"page_deadline_fraction": 0.0})
    assert await _sweep(db, off, START + timedelta(hours=7)) == 0
    assert await _sweep(db, settings, START + timedelta(hours=7)) == 1
    assert [case_id for _, _, case_id in await _pages(db)] == [late]


async def test_a_need_to_know_cases_deadline_page_names_only_its_tracking_id(
    db: Database, oncall: None, settings: Settings
) -> None:
    await _case(db, settings, title="Cross-tenant secret read", restricted=True)
    assert await _sweep(db, settings, START + timedelta(hours=7)) == 1
    [(_, subject, _)] = await _pages(db)
    assert "Cross-tenant" not in subject and "must be triaged within 60 minutes" in subject


async def test_a_holding_stage_pages_once_while_its_page_is_open(
    db: Database, oncall: None, settings: Settings
) -> None:
    case_id = await _case(db, settings, title="Cross-tenant secret read", restricted=True)
    async with db.session() as session:
        service = Service(key="identity", name="Identity")
        session.add(service)
        await session.flush()
        service_id = service.id
        event = RolloutNeedsAttention(
            41,
            case_id,
            service.id,
            2,
            "the gate has had no verdict for long: 3 of 40 intervals",
            "holding",
        )
        await rules.page_rollout(session, event, settings)
        await rules.page_rollout(session, event, settings)  # held still: the page is open
        await session.commit()
    [(key, subject, paged_case)] = await _pages(db)
    assert (key, paged_case) == ("rollout:41:holding", case_id)
    assert subject.endswith("the rollout of the fix to identity (stage 3) needs a person")
    assert "Cross-tenant" not in subject and "intervals" not in subject
    async with db.session() as session:
        await session.execute(text("UPDATE pages SET status = 'resolved'"))
        await rules.page_rollout(session, event, settings)  # it holds again later: a new page
        off = settings.model_copy(update={"page_on_rollouts": False})
        await rules.page_rollout(session, event, off)
        await session.commit()
    assert len(await _pages(db)) == 2
    # Acknowledged, the holding page does not hide the stage failing later.
    async with db.session() as session:
        await session.execute(
            text("UPDATE pages SET status = 'acknowledged' WHERE status = 'triggered'")
        )
        failed = RolloutNeedsAttention(41, case_id, service_id, 2, "errors: 3.1 times", "failed")
        await rules.page_rollout(session, failed, settings)
        await session.commit()
    assert [key for key, _, _ in await _pages(db)][-1] == "rollout:41:failed"
