"""The on-call document through the database and the command: import all or nothing with
each bad input named, export and import back, who is on call, and a change of members that
keeps the rotation's turn."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import text

from helpers import MakeUser, acli
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.errors import Invalid
from vulnops.oncall import exporter, importer, service

PARIS = ZoneInfo("Europe/Paris")
PEOPLE = ("alice", "bob", "carol", "dave", "lead")
NOW = datetime(2027, 3, 3, 12, tzinfo=UTC)


def _document() -> dict[str, Any]:
    """The issue's example, with every kind of target."""
    return {
        "schedules": [
            {
                "key": "primary",
                "time_zone": "Europe/Paris",
                "layers": [
                    {
                        "name": "weekly",
                        "start": "2027-03-01T09:00",
                        "rotation": "weekly",
                        "users": ["alice@example.com", "bob@example.com", "carol@example.com"],
                    }
                ],
                "overrides": [
                    {
                        "user": "dave@example.com",
                        "start": "2027-03-10T18:00",
                        "end": "2027-03-11T09:00",
                    }
                ],
            }
        ],
        "escalation_policies": [
            {
                "key": "security",
                "repeat": 2,
                "default": True,
                "steps": [
                    {"delay_minutes": 0, "targets": ["schedule:primary"]},
                    {
                        "delay_minutes": 15,
                        "targets": ["user:lead@example.com", "layer:primary/weekly"],
                    },
                ],
            }
        ],
    }


@pytest.fixture
async def people(make_user: MakeUser) -> None:
    for name in PEOPLE:
        await make_user(Role.RESPONDER, email=f"{name}@example.com")


async def _import(
    db: Database, document: dict[str, Any], now: datetime = NOW
) -> importer.ImportSummary:
    async with db.session() as session:
        summary = await importer.import_document(
            session, text_=yaml.safe_dump(document), source="oncall.yaml", actor="t", now=now
        )
        await session.commit()
    return summary


async def _who(db: Database, at: datetime) -> str | None:
    async with db.session() as session:
        shift, _ = await service.who(session, key="primary", at=at)
    return shift.user


async def test_the_issues_example_imports_and_says_who_is_on_call(
    db: Database, people: None
) -> None:
    summary = await _import(db, _document())
    assert summary == importer.ImportSummary(
        schedules=1, layers=1, overrides=1, policies=1, steps=2
    )
    at = datetime(2027, 3, 10, 20, tzinfo=PARIS)  # the override: local times in the zone
    assert await _who(db, at) == "dave@example.com"
    assert await _who(db, datetime(2027, 3, 10, 12, tzinfo=PARIS)) == "bob@example.com"
    assert await _who(db, datetime(2027, 3, 1, 8, 59, tzinfo=PARIS)) is None  # before it starts


async def test_export_then_import_gives_the_same_document(db: Database, people: None) -> None:
    await _import(db, _document())
    async with db.session() as session:
        exported = await exporter.document(session)
    await _import(db, exported)
    async with db.session() as session:
        again = await exporter.document(session)
        memberships = await session.scalar(text("SELECT count(*) FROM oncall_memberships"))
    assert again == exported
    assert memberships == 1  # the same members: no new membership, the turn untouched
    [policy] = exported["escalation_policies"]
    assert policy["steps"][1]["targets"] == ["user:lead@example.com", "layer:primary/weekly"]
    assert exported["schedules"][0]["overrides"][0]["start"] == "2027-03-10T17:00:00+00:00"


async def test_a_new_member_keeps_everyone_elses_turn(db: Database, people: None) -> None:
    """Found in the tools we replace: a rotation that resets when someone joins."""
    await _import(db, _document())
    week = [datetime(2027, 3, 8 + 7 * n, 12, tzinfo=PARIS) for n in range(4)]
    assert [await _who(db, at) for at in week[:2]] == ["bob@example.com", "carol@example.com"]
    document = _document()
    document["schedules"][0]["overrides"] = []
    document["schedules"][0]["layers"][0]["users"] = [
        "dave@example.com",  # at the front of the list
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]
    await _import(db, document, now=datetime(2027, 3, 9, 12, tzinfo=UTC))  # Bob's week
    assert [await _who(db, at) for at in week] == [
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "alice@example.com",
    ]


def _broken(change: Any) -> dict[str, Any]:
    document = _document()
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["schedules"][0]["layers"][0].update(rotation="FREQ=SOMETIMES"),
            "not an RRULE",
        ),
        (lambda d: d["schedules"][0].update(time_zone="Mars/Olympus"), "not an IANA time zone"),
        (
            lambda d: d["schedules"][0]["overrides"][0].update(end="2027-03-10T17:00"),
            "an override ends after it starts",
        ),
        (lambda d: d["schedules"][0]["layers"][0].update(users=[]), "at least 1 item"),
        (lambda d: d["escalation_policies"][0].update(steps=[]), "at least 1 item"),
        (
            lambda d: d["escalation_policies"][0]["steps"][0].update(targets=["schedule:nope"]),
            "'schedule:nope' does not exist",
        ),
        (
            lambda d: d["escalation_policies"][0]["steps"][0].update(targets=["layer:primary/x"]),
            "'layer:primary/x' does not exist",
        ),
        (
            lambda d: d["schedules"][0]["layers"][0]["users"].append("nobody@example.com"),
            "no user 'nobody@example.com'",
        ),
        (lambda d: d["escalation_policies"][0].update(services=["nope"]), "no service 'nope'"),
        (
            lambda d: d["escalation_policies"][0]["steps"][0].update(targets=["team:x"]),
            "a target is",
        ),
    ],
)
async def test_bad_input_is_refused_naming_it_and_nothing_is_imported(
    db: Database, people: None, change: Any, message: str
) -> None:
    with pytest.raises(Invalid, match=message) as refused:
        await _import(db, _broken(change))
    assert refused.value.status == 422
    async with db.session() as session:
        written = await session.scalar(
            text(
                "SELECT (SELECT count(*) FROM oncall_schedules)"
                " + (SELECT count(*) FROM escalation_policies)"
            )
        )
    assert written == 0


async def test_a_disabled_user_is_skipped_with_a_warning(db: Database, people: None) -> None:
    await _import(db, _document())
    async with db.session() as session:
        await session.execute(
            text("UPDATE users SET disabled_at = now() WHERE email = 'bob@example.com'")
        )
        await session.commit()
        stored = await service.load(session, key="primary")
    assert await _who(db, datetime(2027, 3, 9, 12, tzinfo=PARIS)) == "carol@example.com"
    assert stored.disabled == frozenset({"bob@example.com"})


async def test_the_command_imports_exports_and_says_who(
    db: Database, people: None, conninfo: str, tmp_path: Path
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    source = tmp_path / "oncall.yaml"
    source.write_text(yaml.safe_dump(_document()))
    imported = await acli("oncall", "import", str(source), env=env)
    assert imported.exit_code == 0, imported.stderr
    assert "1 schedules, 1 layers, 1 overrides, 1 policies, 2 steps imported" in imported.stdout
    found = await acli(
        "oncall", "who", "primary", "--at", "2027-03-10T12:00+0100", "--json", env=env
    )
    assert found.exit_code == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["user"] == "bob@example.com"
    assert (answer["since"], answer["until"]) == (
        "2027-03-08T09:00:00+01:00",
        "2027-03-10T18:00:00+01:00",
    )
    exported = await acli("oncall", "export", env=env)
    assert yaml.safe_load(exported.stdout)["schedules"][0]["key"] == "primary"
    source.write_text(yaml.safe_dump(_broken(lambda d: d["schedules"][0].update(time_zone="X/Y"))))
    refused = await acli("oncall", "import", str(source), env=env)
    assert refused.exit_code == 1 and "not an IANA time zone" in refused.stderr
    unknown = await acli("oncall", "who", "nope", env=env)
    assert unknown.exit_code == 1 and "no on-call schedule 'nope'" in unknown.stderr
