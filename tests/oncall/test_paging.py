"""Pages: a critical case pages the on-call through its policy, escalates after each delay until
someone acknowledges (virtual time: the clock is a parameter), never notifies twice for a step,
and the emailed one-time link acknowledges once, for a short time."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from itsdangerous import timed
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from helpers import SmtpSink, run_jobs_until
from vulnops.cases import service as cases
from vulnops.cases import sla
from vulnops.cases.assessment import AssessmentInput
from vulnops.cases.severity import DataSensitivity, Impact
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, TechnicalImpact
from vulnops.cases.states import CaseState
from vulnops.db.database import Database
from vulnops.errors import Conflict, Invalid
from vulnops.oncall import engine, paging
from vulnops.settings import Settings

NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 03:00 in Paris, a Wednesday


async def _critical_case(db: Database, settings: Settings) -> int:
    async with db.session() as session:
        case = await cases.open_case(
            session,
            title="Token forgery in the identity service",
            summary="Forged tokens are accepted.",
            services=["identity"],
            actor="t",
            settings=settings,
            now=NOW,
        )
        await session.commit()
    await _assess(db, settings, case.id)
    return case.id


async def _assess(db: Database, settings: Settings, case_id: int) -> None:
    async with db.session() as session:
        await cases.assess_severity(
            session,
            case_id=case_id,
            given=AssessmentInput(
                cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                cvss40_vector=None,
                impact=Impact.ELEVATION_OF_PRIVILEGE,
                data_sensitivity=DataSensitivity.CUSTOMER_CONTENT,
                exploitation=Exploitation.ACTIVE,
                automatable=True,
                technical_impact=TechnicalImpact.TOTAL,
                mission_wellbeing=MissionWellbeing.HIGH,
                cwe_id=None,
                publicly_disclosed=False,
                customer_action_required=False,
            ),
            reason="triage",
            actor="t",
            policy=sla.load_policy(settings.sla_policy_file),
            settings=settings,
        )
        await session.commit()


async def _page_of(db: Database, case_id: int) -> int:
    async with db.session() as session:
        page_id = await session.scalar(
            text("SELECT id FROM pages WHERE case_id = :c"), {"c": case_id}
        )
    assert page_id is not None
    return int(page_id)


async def _escalate(
    db: Database, settings: Settings, page_id: int, step: int, loop: int, at: datetime
) -> engine.Outcome:
    async with db.session() as session:
        outcome = await engine.escalate(
            session, page_id=page_id, step=step, loop=loop, now=at, settings=settings
        )
        await session.commit()
    return outcome


async def _jobs(db: Database) -> list[tuple[int, int, datetime]]:
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT (args->>'step')::int, (args->>'loop')::int, scheduled_at "
                "FROM procrastinate_jobs WHERE task_name = 'oncall:escalate' AND status = 'todo' "
                "ORDER BY id"
            )
        )
    return [(step, loop, at) for step, loop, at in rows.all()]


async def test_a_critical_case_pages_and_escalates_until_acknowledged(
    db: Database, oncall: None, mail_settings: Settings
) -> None:
    case_id = await _critical_case(db, mail_settings)
    page_id = await _page_of(db, case_id)
    async with db.session() as session:
        page = await paging.get(session, page_id=page_id)
    assert (page.urgency, page.status, page.source) == ("high", "triggered", "case")
    assert page.policy["key"] == "security" and len(page.policy["steps"]) == 2
    [(step, loop, _)] = await _jobs(db)
    assert (step, loop) == (0, 0)
    # Step 0 at 03:00 Paris: week 62 of the rotation, Bob's; step 1 is due 15 minutes later.
    first = await _escalate(db, mail_settings, page_id, 0, 0, NOW)
    assert first.notified == ("bob@example.com",)
    assert first.next_due is not None and first.next_due.step == 1
    assert [(s, lp) for s, lp, _ in await _jobs(db)] == [(0, 0), (1, 0)]
    assert (await _jobs(db))[1][2] == NOW + timedelta(minutes=15)
    # The same escalation again (a retried job): nothing more.
    again = await _escalate(db, mail_settings, page_id, 0, 0, NOW)
    assert again == engine.Outcome(ran=False)
    second = await _escalate(db, mail_settings, page_id, 1, 0, NOW + timedelta(minutes=15))
    assert second.notified == ("lead@example.com",)
    async with db.session() as session:
        await paging.acknowledge(
            session,
            page_id=page_id,
            actor="lead@example.com",
            now=NOW + timedelta(minutes=16),
            settings=mail_settings,
        )
        await session.commit()
    after_ack = await _escalate(db, mail_settings, page_id, 0, 1, NOW + timedelta(minutes=30))
    assert after_ack == engine.Outcome(ran=False)
    async with db.session() as session:
        told = await session.scalar(text("SELECT count(*) FROM page_notifications"))
        kinds = list(
            await session.scalars(
                text("SELECT kind FROM audit_events WHERE subject = :s ORDER BY seq"),
                {"s": f"page:{page_id}"},
            )
        )
    assert told == 2
    assert kinds == ["page.triggered", "page.notified", "page.escalated", "page.acknowledged"]


async def test_the_emails_go_out_and_their_link_acknowledges_once(
    db: Database, oncall: None, mail_settings: Settings, smtp_server: tuple[SmtpSink, int]
) -> None:
    """Through a real worker and a real SMTP server: the first step's email arrives, and its
    link acknowledges the page as the person it was sent to — once."""
    sink, _ = smtp_server
    case_id = await _critical_case(db, mail_settings)
    page_id = await _page_of(db, case_id)

    async def delivered() -> bool:
        return len(sink.messages) >= 1

    await run_jobs_until(db, mail_settings, delivered)
    [message] = sink.messages
    assert isinstance(message, EmailMessage)
    assert str(message["Subject"]).strip().startswith(f"[HIGH] Page #{page_id}:")
    body = message.get_content()
    token = re.search(r"/pages/ack\?token=(\S+)", body)
    assert token is not None
    async with db.session() as session:
        page = await paging.acknowledge_by_link(
            session, token=token.group(1), settings=mail_settings, now=datetime.now(UTC)
        )
        await session.commit()
    assert page.status == "acknowledged" and page.acknowledged_by in {
        "alice@example.com",
        "bob@example.com",
    }
    async with db.session() as session:
        with pytest.raises(Conflict, match="used already"):
            await paging.acknowledge_by_link(
                session, token=token.group(1), settings=mail_settings, now=datetime.now(UTC)
            )


async def test_an_old_or_forged_link_is_refused(
    db: Database, oncall: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await _critical_case(db, settings)
    await _escalate(db, settings, await _page_of(db, case_id), 0, 0, NOW)
    async with db.session() as session:
        notification = await session.scalar(text("SELECT id FROM page_notifications"))
    assert notification is not None
    issued = timed.time.time() - paging.ACK_LINK_SECONDS - 5
    monkeypatch.setattr(timed.time, "time", lambda: issued)
    old = paging.ack_token(settings, int(notification))
    monkeypatch.undo()
    async with db.session() as session:
        with pytest.raises(Invalid, match="expired"):
            await paging.acknowledge_by_link(session, token=old, settings=settings, now=NOW)
        with pytest.raises(Invalid, match="not an acknowledgment link"):
            await paging.acknowledge_by_link(session, token="x" + old, settings=settings, now=NOW)


async def test_the_same_open_page_is_not_raised_twice_and_a_key_is_bounded(
    db: Database, oncall: None, settings: Settings
) -> None:
    async with db.session() as session:
        first = await paging.raise_page(
            session,
            dedup_key="alert:disk",
            title="Disk full",
            urgency="low",
            source="alert",
            services=[],
            actor="t",
            now=NOW,
            settings=settings,
        )
        again = await paging.raise_page(
            session,
            dedup_key="alert:disk",
            title="Disk full",
            urgency="low",
            source="alert",
            services=[],
            actor="t",
            now=NOW,
            settings=settings,
        )
        assert (first.new, again.new, again.page.id) == (True, False, first.page.id)
        await paging.resolve(session, page_id=first.page.id, actor="t", now=NOW, settings=settings)
        reopened = await paging.raise_page(
            session,
            dedup_key="alert:disk",
            title="Disk full",
            urgency="low",
            source="alert",
            services=[],
            actor="t",
            now=NOW,
            settings=settings,
        )
        assert reopened.new and reopened.page.id != first.page.id
        with pytest.raises(Invalid, match="dedup_key: give 1 to 255 characters"):
            await paging.raise_page(
                session,
                dedup_key="k" * 256,
                title="x",
                urgency="low",
                source="alert",
                services=[],
                actor="t",
                now=NOW,
                settings=settings,
            )


async def test_a_case_pages_once_whatever_happens_to_it_afterwards(
    db: Database, oncall: None, settings: Settings
) -> None:
    case_id = await _critical_case(db, settings)
    page_id = await _page_of(db, case_id)
    async with db.session() as session:
        await paging.resolve(session, page_id=page_id, actor="t", now=NOW, settings=settings)
        await session.commit()
    await _assess(db, settings, case_id)  # assessed again: still critical, not paged again
    async with db.session() as session:
        await cases.transition(
            session,
            case_id=case_id,
            target=CaseState.REMEDIATING,
            reason=None,
            actor="t",
            now=NOW,
            settings=settings,
        )
        await session.commit()
        count = await session.scalar(text("SELECT count(*) FROM pages"))
    assert count == 1


async def test_two_transactions_raising_one_key_at_once_share_one_page(
    db: Database, oncall: None, settings: Settings
) -> None:
    """The second waits on the first's unique key; when the first commits, it gets that page
    (its own transaction goes on: a worker recording deliveries loses nothing)."""

    async def raised(session: AsyncSession) -> paging.Raised:
        return await paging.raise_page(
            session,
            dedup_key="deliveries:7",
            title="Deliveries died",
            urgency="high",
            source="delivery",
            services=[],
            actor="t",
            now=NOW,
            settings=settings,
        )

    async with db.session() as first, db.session() as second:
        mine = await raised(first)
        theirs = asyncio.create_task(raised(second))
        await asyncio.sleep(0.5)  # the second now waits on the first's row
        assert not theirs.done()
        await first.commit()
        found = await asyncio.wait_for(theirs, timeout=10)
        await second.execute(text("SELECT 1"))  # its transaction is still usable
        await second.commit()
    assert (found.new, found.page.id) == (False, mine.page.id)
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM pages")) == 1
