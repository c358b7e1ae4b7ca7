"""The command line stays fast and scriptable: help loads no web app, database layer, numpy or
scipy (checked in the installed command's own process); every list command prints JSON that
parses; piped output keeps every value whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import typer
from psycopg import sql

from helpers import MakeUser, acli
from vulnops.auth.roles import Role
from vulnops.cases import service as cases
from vulnops.cli.main import app
from vulnops.db import embedded
from vulnops.db.database import Database
from vulnops.settings import Settings

HEAVY = ("fastapi", "sqlalchemy", "numpy", "scipy", "starlette", "psycopg", "procrastinate")
# Prints, when the process ends, the heavy packages it imported.
PROBE = """
import atexit, sys
heavy = {heavy!r}
def report():
    loaded = {{m.split(".")[0] for m in sys.modules}}
    print("IMPORTED", sorted(loaded & set(heavy)), file=sys.stderr)
atexit.register(report)
sys.argv = ["vulnops", *{args!r}]
from vulnops.cli.main import app
app()
"""


def _groups() -> list[str]:
    command = typer.main.get_command(app)
    return sorted(command.commands)  # type: ignore[attr-defined]


def test_help_of_the_command_and_of_every_group_imports_nothing_heavy() -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("VULNOPS_")}
    for args in (["--help"], *([group, "--help"] for group in _groups())):
        done = subprocess.run(
            [sys.executable, "-c", PROBE.format(heavy=HEAVY, args=args)],
            env=inherited,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "Usage:" in done.stdout
        assert "IMPORTED []" in done.stderr, (args, done.stderr)


# The arguments each list command needs besides --json ("{email}", "{case}" filled in).
LIST_ARGS = {
    ("report", "list"): ["--as", "{email}"],
    ("token", "list"): ["{email}"],
    ("fix", "list"): ["{case}"],
}


async def test_every_list_command_prints_json_that_parses(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, settings: Settings
) -> None:
    user = await make_user(Role.RESPONDER)
    async with db.session() as session:
        case = await cases.open_case(
            session,
            title="A title long enough that a narrow table would cut it short at the end",
            summary="",
            services=["storage"],
            actor="t",
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path), "COLUMNS": "40"}
    command = typer.main.get_command(app)
    found = []
    for group_name, group in sorted(command.commands.items()):  # type: ignore[attr-defined]
        for name in sorted(getattr(group, "commands", {})):
            if name not in {"list", "faults", "log"}:
                continue
            found.append((group_name, name))
            extra = [
                a.format(email=user.email, case=case.tracking_id)
                for a in LIST_ARGS.get((group_name, name), [])
            ]
            result = await acli(group_name, name, *extra, "--json", env=env)
            assert result.exit_code == 0, (group_name, name, result.stderr)
            json.loads(result.stdout)
    assert len(found) >= 8, found
    shown = await acli("case", "show", case.tracking_id, "--json", env=env)
    assert json.loads(shown.stdout)["milestones"][0]["milestone"] == "reported"
    # Piped, even with 40 columns, the plain output keeps the whole title.
    listed = await acli("case", "list", env=env)
    assert case.title in listed.stdout and "…" not in listed.stdout


async def test_a_database_without_the_schema_is_one_line_saying_what_to_run(
    server_url: str, tmp_path: Path
) -> None:
    name = f"vulnops_empty_{os.getpid()}"
    url = embedded.ensure_database(server_url, name)
    env = {"VULNOPS_DATABASE_URL": url, "VULNOPS_DATA_DIR": str(tmp_path)}
    try:
        result = await acli("case", "list", env=env)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "run `vulnops db upgrade`" in result.stderr
