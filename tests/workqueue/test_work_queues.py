"""The work queue of each role: what it counts, what it lists, and that its counts agree with
the lists they link to (the rollout, advisory and delivery sections are tested beside their
domains)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer, sign_in
from vulnops.approvals import service as approvals
from vulnops.auth import service as users
from vulnops.auth.models import User
from vulnops.auth.roles import Role, has_permission
from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db.database import Database
from vulnops.intake import messages
from vulnops.intake import service as intake
from vulnops.intake.schemas import ReportIn
from vulnops.intake.states import CloseReason, ReportState, Turn, waiting_on
from vulnops.settings import Settings
from vulnops.workqueue.sections import NEEDS, ROLE_SECTIONS, SectionKey, sections_for


def _section(queue: dict[str, Any], key: SectionKey) -> dict[str, Any]:
    found = [s for s in queue["sections"] if s["key"] == key.value]
    assert found, f"no {key.value} section in {[s['key'] for s in queue['sections']]}"
    return found[0]


@pytest.mark.parametrize("role", list(Role))
def test_a_role_sees_only_sections_it_may_open(role: Role) -> None:
    shown = sections_for(role)
    assert shown, f"{role.value} has an empty home page"
    assert all(has_permission(role, NEEDS[key]) for key in shown)
    assert set(shown) == set(ROLE_SECTIONS[role])  # none dropped for the shipped roles


def test_each_person_sees_their_own_kind_of_queue() -> None:
    assert sections_for(Role.CUSTOMER) == (SectionKey.UNACKNOWLEDGED,)
    assert sections_for(Role.RESEARCHER) == (SectionKey.ASKED_OF_ME, SectionKey.MY_REPORTS)
    assert SectionKey.JOBS in sections_for(Role.ADMIN)
    assert all(SectionKey.JOBS not in sections_for(r) for r in Role if r is not Role.ADMIN)
    responder = sections_for(Role.RESPONDER)
    assert responder[:2] == (SectionKey.BREACHES, SectionKey.MY_CASES)
    assert {SectionKey.MY_FIXES, SectionKey.STAGES} <= set(sections_for(Role.ENGINEER))


def test_what_a_report_waits_for() -> None:
    asked, answered = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)

    def wait(state: ReportState, **kw: Any) -> tuple[Turn, str]:
        kw.setdefault("close_reason", None)
        kw.setdefault("team_spoke_at", None)
        kw.setdefault("reporter_spoke_at", None)
        found = waiting_on(state, **kw)
        return found.on, found.sentence

    assert wait(ReportState.NEW)[0] is Turn.TEAM
    assert wait(ReportState.NEEDS_INFO, team_spoke_at=asked) == (
        Turn.REPORTER,
        "Waiting for your answer: the team asked for more.",
    )
    # The reporter answered the question: the team's turn again.
    assert wait(ReportState.NEEDS_INFO, team_spoke_at=asked, reporter_spoke_at=answered) == (
        Turn.TEAM,
        "Waiting for the team to answer your message.",
    )
    assert wait(ReportState.RESOLVED)[1].startswith("Fixed everywhere")
    assert wait(ReportState.CLOSED, close_reason=CloseReason.WONT_FIX) == (
        Turn.NOBODY,
        "Closed (won't fix).",
    )


async def _report(db: Database, settings: Settings, reporter: User, title: str) -> int:
    async with db.session() as session:
        report = await intake.submit(
            session,
            principal=users.principal_of(reporter, via="session"),
            data=ReportIn(title=title, description="Steps.", service="billing"),
            settings=settings,
        )
        await session.commit()
        return report.id


async def _ask(db: Database, settings: Settings, staff: User, report_id: int) -> None:
    async with db.session() as session:
        await intake.transition(
            session,
            principal=users.principal_of(staff, via="session"),
            report_id=report_id,
            target=ReportState.NEEDS_INFO,
            close_reason=None,
            resolution="Which account did you use?",
            settings=settings,
        )
        await session.commit()


async def _answer(db: Database, settings: Settings, reporter: User, report_id: int) -> None:
    async with db.session() as session:
        await messages.post(
            session,
            principal=users.principal_of(reporter, via="session"),
            report_id=report_id,
            body="My own test account.",
            settings=settings,
        )
        await session.commit()


async def _case(
    db: Database,
    settings: Settings,
    title: str,
    *,
    owner: User | None = None,
    responder: User | None = None,
    started: timedelta = timedelta(0),
    closed: bool = False,
) -> int:
    now = datetime.now(UTC)
    async with db.session() as session:
        case = await cases.open_case(
            session,
            title=title,
            summary="",
            services=["billing"],
            actor="test",
            settings=settings,
            started_at=now - started,
            owner_id=owner.id if owner else None,
            responder_id=responder.id if responder else None,
            now=now,
        )
        if closed:
            await cases.transition(
                session,
                case_id=case.id,
                target=CaseState.REJECTED,
                reason="not a vulnerability",
                actor="test",
                now=now,
                settings=settings,
            )
        await session.commit()
        return case.id


async def test_a_responders_queue(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, settings: Settings
) -> None:
    me = await make_user(Role.RESPONDER)
    other = await make_user(Role.RESPONDER)
    researcher = await make_user(Role.RESEARCHER)
    # Mine and late (unrated: acknowledge within 4 h), mine and on time, another's and late,
    # mine but rejected.
    late = await _case(db, settings, "Late and mine", owner=me, started=timedelta(hours=6))
    await _case(db, settings, "On time and mine", responder=me)
    await _case(db, settings, "Late, not mine", owner=other, started=timedelta(hours=5))
    await _case(db, settings, "Rejected and mine", owner=me, closed=True)
    fresh = await _report(db, settings, researcher, "Fresh report")
    asked = await _report(db, settings, researcher, "Asked, no answer")
    answered = await _report(db, settings, researcher, "Asked and answered")
    for report_id in (asked, answered):
        await _ask(db, settings, me, report_id)
    await _answer(db, settings, researcher, answered)
    async with db.session() as session:
        for subject, author, approver in (
            ("rollout:101", other.email, None),  # another's: mine to decide
            ("rollout:102", me.email, None),  # my own: four eyes keep it out
            ("rollout:103", other.email, "someone@example.com"),  # named for someone else
        ):
            await approvals.request(
                session,
                step=approvals.Step.EXPEDITED_ROLLOUT,
                subject=subject,
                summary=f"Expedited {subject}",
                author=author,
                approver=approver,
            )
        await session.commit()

    headers = bearer(await api_token(db, me))
    queue = (await client.get("/api/queue", headers=headers)).json()
    assert queue["role"] == "responder"
    keys = [s["key"] for s in queue["sections"]]
    assert keys[:2] == ["breaches", "my_cases"]

    breaches = _section(queue, SectionKey.BREACHES)
    assert breaches["count"] == 2 and breaches["alarm"] is True
    assert [i["title"] for i in breaches["items"]] == ["Late and mine", "Late, not mine"]
    assert "acknowledge overdue by" in breaches["items"][0]["detail"]

    mine = _section(queue, SectionKey.MY_CASES)
    assert mine["count"] == 2
    assert [i["title"] for i in mine["items"]] == ["Late and mine", "On time and mine"]
    assert mine["items"][0]["href"] == f"/cases/{late}" and mine["items"][0]["tone"] == "bad"
    assert "acknowledge due in 3 h" in mine["items"][1]["detail"]

    approvals_for_me = _section(queue, SectionKey.MY_APPROVALS)
    assert approvals_for_me["count"] == 1
    assert approvals_for_me["items"][0]["title"] == "Expedited rollout:101"
    assert approvals_for_me["items"][0]["href"] == "/rollouts/101"

    new = _section(queue, SectionKey.NEW_REPORTS)
    assert new["count"] == 1 and new["items"][0]["href"] == f"/reports/{fresh}"
    waiting = _section(queue, SectionKey.REPORTERS_WAITING)
    assert waiting["count"] == 1 and waiting["items"][0]["href"] == f"/reports/{answered}"

    # Each count is the total of the list it links to.
    listed_mine = await client.get(
        f"/api/cases?assigned_to={me.id}&open=true&sort=due", headers=headers
    )
    assert listed_mine.json()["total"] == mine["count"]
    listed_waiting = await client.get("/api/reports?awaiting_team=true", headers=headers)
    assert [r["id"] for r in listed_waiting.json()["items"]] == [answered]

    # The page shows the same, with the counts up top.
    await sign_in(client, me.email)
    page = await client.get("/")
    assert page.status_code == 200
    assert 'data-section="breaches"' in page.text and "Late and mine" in page.text
    assert "Expedited rollout:101" in page.text and "Expedited rollout:102" not in page.text
    assert "Rejected and mine" not in page.text
    mine_page = await client.get("/cases?mine=1&sort=due")
    assert "Late and mine" in mine_page.text and "Late, not mine" not in mine_page.text
    assert "Rejected and mine" not in mine_page.text
    approvals_page = await client.get("/approvals?mine=1")
    assert "Expedited rollout:101" in approvals_page.text
    assert "rollout:102" not in approvals_page.text and "rollout:103" not in approvals_page.text


async def test_a_researchers_queue_says_what_each_report_waits_for(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, settings: Settings
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    stranger = await make_user(Role.RESEARCHER)
    staff = await make_user(Role.RESPONDER)
    await _report(db, settings, researcher, "Fresh report")
    asked = await _report(db, settings, researcher, "Asked, no answer")
    answered = await _report(db, settings, researcher, "Asked and answered")
    await _report(db, settings, stranger, "Someone else's report")
    for report_id in (asked, answered):
        await _ask(db, settings, staff, report_id)
    await _answer(db, settings, researcher, answered)

    queue = (await client.get("/api/queue", headers=bearer(await api_token(db, researcher)))).json()
    assert [s["key"] for s in queue["sections"]] == ["asked_of_me", "my_reports"]
    asked_of_me = _section(queue, SectionKey.ASKED_OF_ME)
    assert asked_of_me["count"] == 1
    assert asked_of_me["items"][0]["href"] == f"/reports/{asked}"
    assert asked_of_me["items"][0]["detail"].startswith("Waiting for your answer")
    mine = _section(queue, SectionKey.MY_REPORTS)
    assert mine["count"] == 3
    details = {i["title"]: i["detail"] for i in mine["items"]}
    assert "Someone else's report" not in details
    assert details["Asked and answered"] == "Waiting for the team to answer your message."
    assert details["Fresh report"].startswith("Received; waiting for the security team")

    await sign_in(client, researcher.email)
    listed = await client.get("/reports?asked=1")
    assert "Asked, no answer" in listed.text and "Asked and answered" not in listed.text
    assert "Waiting for your answer" in listed.text


async def test_the_administrators_queue_shows_the_health_of_the_workers(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ADMIN)))

    def jobs(queue: dict[str, Any]) -> dict[str, Any]:
        return _section(queue, SectionKey.JOBS)

    idle = jobs((await client.get("/api/queue", headers=headers)).json())
    assert idle["alarm"] is True and idle["count"] == 1
    assert idle["items"][0]["title"] == "0 alive" and idle["items"][0]["tone"] == "bad"

    async with db.session() as session:
        await session.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
        job = await session.scalar(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
                "VALUES ('default', 'rollout:tick', '{}') RETURNING id"
            )
        )
        for status in ("doing", "failed"):  # taken by a worker, then failed
            await session.execute(
                text(
                    "UPDATE procrastinate_jobs SET status = CAST(:s AS procrastinate_job_status) "
                    "WHERE id = :id"
                ),
                {"id": job, "s": status},
            )
        await session.commit()
    busy = jobs((await client.get("/api/queue", headers=headers)).json())
    titles = {i["label"]: i["title"] for i in busy["items"]}
    assert titles["Workers"] == "1 alive"
    assert titles["Failed job"] == "rollout:tick"
    assert busy["count"] == 1  # the failed job; the worker is alive
