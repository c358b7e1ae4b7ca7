"""``vulnops advisory …`` against the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notify_world import World
from sqlalchemy import text

from helpers import MakeUser, acli
from vulnops.auth.roles import Role
from vulnops.db.database import Database


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
    assert sent.exit_code == 0 and "sent to 4 tenants (5 deliveries)" in sent.stdout, sent.stdout
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
