"""``vulnops advisory …`` against the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notify_world import World
from sqlalchemy import text

from helpers import MakeUser, acli
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.notify import conversation
from vulnops.settings import Settings


async def test_draft_approve_send_show_and_resend_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    await make_user(Role.COMMUNICATIONS, email="comms@example.com")
    await make_user(Role.ENGINEER, email="eng@example.com")
    async with db.session() as session:
        case = await session.scalar(
            text("SELECT tracking_id FROM cases WHERE id = :id"), {"id": world.case_id}
        )
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    draft = ("advisory", "draft", case, "--title", "Bucket metadata exposure")
    draft += ("--summary", "What happened.", "--exposed-since", "2026-11-20", "--template")
    (tmp_path / "body.md").write_text("Dear {{ tenant.name }}: {{ summary }}")
    drafted = await acli(*draft, str(tmp_path / "body.md"), env=env)
    assert drafted.exit_code == 0 and "version 1 drafted" in drafted.stdout, drafted.stderr
    (tmp_path / "broken.md").write_text("{{ tenant.nmae }}")
    broken = await acli(*draft, str(tmp_path / "broken.md"), env=env)
    assert broken.exit_code == 1 and "nmae" in broken.stderr
    anonymous = await acli("advisory", "approve", case, env=env)
    assert anonymous.exit_code == 1 and "--as" in anonymous.stderr
    refused = await acli("advisory", "approve", case, "--as", "eng@example.com", env=env)
    assert refused.exit_code == 1 and "advisories:approve" in refused.stderr
    approved = await acli("advisory", "approve", case, "--as", "comms@example.com", env=env)
    assert approved.exit_code == 0, approved.stderr
    sent = await acli("advisory", "send", case, env=env)
    assert (
        sent.exit_code == 0 and "sent to 4 tenants (5 deliveries; 4 the original)" in sent.stdout
    ), sent.stdout
    shown = await acli("advisory", "show", case, env=env)
    assert "Bucket metadata exposure" in shown.stdout and "delivered 4" in shown.stdout
    assert "undeliverable 3" in shown.stdout  # no SMTP here: every email is undeliverable
    as_json = json.loads((await acli("advisory", "show", case, "--json", env=env)).stdout)
    assert as_json["recipients"] == 4 and as_json["versions"][0]["status"] == "sent"
    async with db.session() as session:
        await session.execute(
            text("UPDATE deliveries SET status = 'dead' WHERE channel = 'webhook'")
        )
        await session.commit()
    resent = await acli("advisory", "resend-dead", case, env=env)
    assert resent.exit_code == 0 and "2 dead deliveries queued again" in resent.stdout


async def test_questions_are_listed_read_and_answered_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    await make_user(Role.COMMUNICATIONS, email="comms@example.com")
    await make_user(Role.ENGINEER, email="eng@example.com")
    customer = await make_user(Role.CUSTOMER, email="admin@acme.test", tenant_key="acme")
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    async with db.session() as session:
        case = str(
            await session.scalar(
                text("SELECT tracking_id FROM cases WHERE id = :id"), {"id": world.case_id}
            )
        )
    draft = ("advisory", "draft", case, "--title", "Bucket metadata exposure")
    draft += ("--summary", "What happened.", "--exposed-since", "2026-11-20")
    assert (await acli(*draft, env=env)).exit_code == 0
    assert (
        await acli("advisory", "approve", case, "--as", "comms@example.com", env=env)
    ).exit_code == 0
    assert (await acli("advisory", "send", case, env=env)).exit_code == 0
    async with db.session() as session:
        advisory = int(
            await session.scalar(
                text("SELECT id FROM advisories WHERE case_id = :id"), {"id": world.case_id}
            )
        )
        await conversation.ask(
            session,
            advisory_id=advisory,
            tenant_id=world.tenant_ids["acme"],
            author=users.principal_of(customer, via="token"),
            body="Is acme-bucket-2 done?",
            settings=Settings(database_url=conninfo, data_dir=tmp_path),
            now=datetime.now(UTC),
        )
        await session.commit()

    waiting = json.loads((await acli("advisory", "questions", "--json", env=env)).stdout)
    assert [(q["tracking_id"], q["tenant_name"]) for q in waiting] == [(case, "Acme Corp")]
    refused = await acli(
        "advisory", "answer", case, "acme", "--body", "Yes.", "--as", "eng@example.com", env=env
    )
    assert refused.exit_code == 1 and "advisories:write" in refused.stderr
    empty = await acli(
        "advisory", "answer", case, "acme", "--body", "  ", "--as", "comms@example.com", env=env
    )
    assert empty.exit_code == 1 and "empty" in empty.stderr
    answered = await acli(
        "advisory",
        "answer",
        case,
        "acme",
        "--body",
        "Yes, since 10:00.",
        "--as",
        "comms@example.com",
        env=env,
    )
    assert answered.exit_code == 0 and "sent" in answered.stdout, answered.stderr
    shown = await acli("advisory", "conversation", case, "acme", env=env)
    assert "Is acme-bucket-2 done?" in shown.stdout and "Yes, since 10:00." in shown.stdout
    thread = json.loads(
        (await acli("advisory", "conversation", case, "acme", "--json", env=env)).stdout
    )
    assert [m["from_staff"] for m in thread["messages"]] == [False, True]
    assert thread["conversation"]["waiting_since"] is None
    assert json.loads((await acli("advisory", "questions", "--json", env=env)).stdout) == []
    unknown = await acli("advisory", "conversation", case, "hooli", env=env)
    assert unknown.exit_code == 1  # hooli was not told: no conversation to read
    progress = json.loads((await acli("advisory", "progress", case, "--json", env=env)).stdout)
    assert {(p["tenant_key"], p["resources"], p["unmarked"]) for p in progress} == {
        ("acme", 3, 3),
        ("globex", 2, 2),
        ("initech", 1, 1),
        ("umbrella", 2, 2),
    }


async def test_translate_approve_and_send_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    await make_user(Role.COMMUNICATIONS, email="comms@example.com")
    async with db.session() as session:
        await session.execute(text("UPDATE tenants SET language = 'fr' WHERE key = 'globex'"))
        await session.commit()
        case = await session.scalar(
            text("SELECT tracking_id FROM cases WHERE id = :id"), {"id": world.case_id}
        )
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    (tmp_path / "body.md").write_text("Dear {{ tenant.name }}: {{ summary }}")
    (tmp_path / "corps.md").write_text("Chère {{ tenant.name }} : {{ summary }}")
    drafted = await acli(
        *("advisory", "draft", case, "--title", "Bucket metadata exposure"),
        *("--summary", "What happened.", "--exposed-since", "2026-11-20"),
        *("--template", str(tmp_path / "body.md")),
        env=env,
    )
    assert drafted.exit_code == 0, drafted.stderr
    translate = ("advisory", "translate", case)
    french = ("--title", "Exposition des métadonnées", "--summary", "Ce qui s'est passé.")
    french += ("--template", str(tmp_path / "corps.md"))
    refused = await acli(*translate, "fr_FR", *french, env=env)
    assert refused.exit_code == 1 and "is not a BCP 47 language tag" in refused.stderr
    unread = await acli(*translate, "de", *french, env=env)
    assert unread.exit_code == 0 and "note: no tenant of this advisory's audience reads de" in (
        unread.stdout
    )
    removed = await acli("advisory", "remove-translation", case, "de", env=env)
    assert removed.exit_code == 0, removed.stderr
    saved = await acli(*translate, "fr", *french, env=env)
    assert saved.exit_code == 0 and "fr translation saved" in saved.stdout, saved.stderr
    for command in ("approve", "approve-translation"):
        extra = () if command == "approve" else ("fr",)
        decided = await acli(
            "advisory", command, case, *extra, "--as", "comms@example.com", env=env
        )
        assert decided.exit_code == 0, decided.stderr
    sent = await acli("advisory", "send", case, env=env)
    assert "(5 deliveries; 3 the original, 1 fr)" in sent.stdout, sent.stdout
    listed = json.loads((await acli("advisory", "translations", case, "--json", env=env)).stdout)
    assert [(t["language"], t["status"], t["sent_to"]) for t in listed] == [("fr", "approved", 1)]
    # Sent in error: withdrawn, once; its conversations are closed from the command line too.
    withdrawn = await acli("advisory", "withdraw", case, "--reason", "sent in error", env=env)
    assert withdrawn.exit_code == 0 and "withdrawn; " in withdrawn.stdout, withdrawn.stderr
    again = await acli("advisory", "withdraw", case, "--reason", "sent in error", env=env)
    assert again.exit_code == 1 and "was withdrawn" in again.stderr
    answer = ("advisory", "answer", case, "globex", "--body", "Hello")
    closed = await acli(*answer, "--as", "comms@example.com", env=env)
    assert closed.exit_code == 1 and "its conversation is closed" in closed.stderr
