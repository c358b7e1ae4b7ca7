"""The case page in tabs, its next step, its timeline in sentences and the CVSS calculator's
score, on the demo's own cases (pure parts first)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from helpers import Clock, MakeUser, sign_in
from vulnops import demo
from vulnops.audit.narrate import kinds_shown, narrate
from vulnops.audit.telling import Group
from vulnops.auth.roles import Role
from vulnops.casefile.next_step import Facts, next_steps
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.review import history
from vulnops.rollout.controller import Controller
from vulnops.rollout.models import Rollout
from vulnops.settings import Settings

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    subject: str = "case:1"
    actor: str = "system"
    occurred_at: datetime = AT


def test_the_timeline_tells_a_stage_in_a_sentence_numbered_as_people_count() -> None:
    passed = Event(
        1,
        "rollout.stage_passed",
        {
            "rollout": 3,
            "stage": 1,
            "kind": "pilot",
            "regions": ["ap-west-2"],
            "began": (AT - timedelta(minutes=42)).isoformat(),
        },
    )
    [line] = narrate([passed], names={})
    assert line.sentence == "Rollout #3 passed stage 2 (pilot, ap-west-2) after 42 min"
    assert (line.group, line.key, line.tone) == (Group.ROLLOUTS, True, "good")
    [unknown] = narrate([Event(2, "something.new", actor="ann@example.com")], names={})
    assert unknown.sentence == "something.new by ann@example.com" and not unknown.key


def test_the_timeline_tells_translations_and_a_withdrawal() -> None:
    lines = narrate(
        [
            Event(1, "advisory.translated", {"version": 2, "language": "fr"}, actor="ann@x"),
            Event(2, "advisory.translation_rejected", {"language": "fr", "comment": "typo"}),
            Event(3, "advisory.withdrawn", {"reason": "wrong tenants", "cancelled": 1200}),
        ],
        names={},
    )
    assert [line.sentence for line in lines] == [
        "ann@x translated advisory version 2 into fr",
        "system sent the fr translation back: typo",
        "system withdrew the advisory: wrong tenants (1,200 messages not yet delivered were "
        "cancelled)",
    ]
    assert [line.group for line in lines] == [Group.ADVISORY] * 3 and lines[2].key


def test_the_filters_choose_kinds_by_group_and_weight() -> None:
    assert kinds_shown(None, details=True) is None
    rollouts = kinds_shown(Group.ROLLOUTS, details=False)
    assert rollouts and all(kind.startswith("rollout.") for kind in rollouts)
    assert "rollout.stage_passed" in rollouts
    every = kinds_shown(Group.ROLLOUTS, details=True)
    assert every is not None and set(rollouts) < set(every)


def _facts(**changed: Any) -> Facts:
    fields: dict[str, Any] = {
        "case_id": 7,
        "reached": {Milestone.REPORTED},
        "rated": False,
        "blast_computed": False,
        "tenants_affected": 0,
        "fixes": 0,
        "fixes_ready": 0,
        "rollout_id": None,
        "rollout_status": None,
        "advisory_status": None,
        "advisory_readable": True,
        "public_text": False,
        "public_text_waiting": False,
        "disclosure_asked": False,
        "disclosure_approved": False,
    }
    return Facts(**{**fields, **changed})


def test_a_new_case_is_acknowledged_first_and_each_step_names_its_tab() -> None:
    steps = next_steps(_facts())
    assert steps[0].text == "Acknowledge the case" and steps[0].href == "/cases/7#deadlines"
    assert [s.href for s in steps[1:4]] == [
        "/cases/7/severity",
        "/cases/7#decide",
        "/cases/7/blast-radius",
    ]
    assert any(s.href == "/cases/7/fixes" and s.text == "Add a fix" for s in steps)


def test_a_halted_rollout_asks_for_a_decision_and_a_finished_case_needs_nothing() -> None:
    reached = {Milestone.REPORTED, Milestone.ACKNOWLEDGED, Milestone.TRIAGED}
    steps = next_steps(
        _facts(
            reached=reached,
            rated=True,
            blast_computed=True,
            fixes=1,
            fixes_ready=1,
            rollout_id=4,
            rollout_status="halted",
        )
    )
    assert steps[0].text == "Rollout #4 is halted: decide what happens to it"
    assert steps[0].href == "/rollouts/4"
    assert next_steps(_facts(reached={Milestone.REPORTED, Milestone.CLOSED})) == []


async def _demo(db: Database, settings: Settings) -> Case:
    """The demo with its rollouts run to their end; its case with the CVE."""
    await demo.seed(db)
    clock = Clock(datetime.now(UTC))
    controller = Controller(database=db, settings=settings, clock=clock)
    async with db.session() as session:
        ids = list(await session.scalars(select(Rollout.id)))
    for rollout_id in ids:
        delay = await controller.tick(rollout_id)
        while delay is not None:
            clock.advance(delay)
            delay = await controller.tick(rollout_id)
    async with db.session() as session:
        rolled = await session.scalar(
            select(Case)
            .join(Rollout, Rollout.case_id == Case.id)
            .where(Rollout.status == "completed", Rollout.started_by != history.ACTOR)
        )
    assert rolled is not None
    return rolled


async def test_every_tab_of_a_case_answers_with_its_own_part(
    client: httpx.AsyncClient, db: Database, settings: Settings, make_user: MakeUser
) -> None:
    case = await _demo(db, settings)
    responder = await make_user(Role.RESPONDER)
    await sign_in(client, responder.email)
    base = f"/cases/{case.id}"
    markers = {
        "": 'data-testid="next-step"',
        "/severity": 'data-testid="cvss-3.1"',
        "/blast-radius": 'data-testid="blast-radius"',
        "/fixes": 'data-testid="fixes"',
        "/disclosure": 'data-testid="public-text"',
        "/timeline": 'data-testid="timeline"',
    }
    for suffix, marker in markers.items():
        page = await client.get(base + suffix)
        assert page.status_code == 200, suffix
        assert marker in page.text, suffix
        assert f'href="{base}{suffix}" aria-current="page"' in page.text, suffix


async def test_the_timeline_is_in_sentences_filtered_with_the_raw_event_a_click_away(
    client: httpx.AsyncClient, db: Database, settings: Settings, make_user: MakeUser
) -> None:
    case = await _demo(db, settings)
    responder = await make_user(Role.RESPONDER)
    await sign_in(client, responder.email)
    key = (await client.get(f"/cases/{case.id}/timeline?show=rollouts")).text
    kinds = re.findall(r'data-kind="([^"]+)"', key)
    assert kinds and all(kind.startswith("rollout.") for kind in kinds)
    assert re.search(r"Rollout #\d+ passed stage 1 \(canary, [^)]+\) after", key)
    every = (await client.get(f"/cases/{case.id}/timeline?show=rollouts&every=1")).text
    assert len(re.findall(r'data-kind="', every)) > len(kinds)
    assert key.count('<details class="raw">') == len(kinds)
    assert "rollout.stage_passed" in key  # in the raw event, not the sentence
    sentences = re.findall(r'<span class="sentence">([^<]+)</span>', key)
    assert not any(s.startswith("rollout.") for s in sentences)


async def test_the_calculator_scores_a_vector_and_names_a_bad_metric(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    responder = await make_user(Role.RESPONDER)
    await sign_in(client, responder.email)
    good = await client.get(
        "/api/cases/cvss", params={"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
    )
    assert good.status_code == 200
    assert good.json()["base_score"] == 9.8 and good.json()["severity"].lower() == "critical"
    bad = await client.get("/api/cases/cvss", params={"vector": "CVSS:3.1/AV:Q"})
    assert bad.status_code == 422 and "AV" in bad.text
