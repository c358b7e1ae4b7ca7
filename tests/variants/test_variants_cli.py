"""``vulnops hunt start|status|findings`` and ``vulnops class show``: a code hunt run in the
command with its progress, its repositories' states, its findings, and the class."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from helpers import acli
from variants.conftest import SSRF_RULE, Opener, make_repositories
from vulnops.cases.models import Case
from vulnops.db.database import Database
from vulnops.fleet import repositories


async def test_a_code_hunt_from_the_command_line(
    db: Database,
    conninfo: str,
    tmp_path: Path,
    services: dict[str, int],
    open_case: Opener,
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path / "data")}
    repos = make_repositories(tmp_path)
    async with db.session() as session:
        for key in ("storage", "billing"):
            await repositories.replace(
                session, service_key=key, locations=[str(repos[key])], actor="test"
            )
        await session.commit()
    case_id = await open_case()
    async with db.session() as session:
        tracking = await session.scalar(select(Case.tracking_id).where(Case.id == case_id))
    rule = tmp_path / "ssrf.yaml"
    rule.write_text(SSRF_RULE)
    started = await acli(
        "hunt",
        "start",
        str(tracking),
        "--strategy",
        "code",
        "--rule",
        str(rule),
        "--json",
        env=env,
    )
    assert started.exit_code == 0, started.stderr
    hunt = json.loads(started.stdout)
    assert hunt["state"] == "finished" and hunt["findings"] == 2
    assert hunt["locations_done"] == hunt["locations_total"] == 2

    status = await acli("hunt", "status", str(hunt["id"]), env=env)
    assert status.exit_code == 0, status.stderr
    assert (
        f"hunt {hunt['id']} (code) of case {case_id}: finished; 2 finding(s), 2 to decide"
        in status.stdout
    )
    assert f"storage\t{repos['storage']}\tscanned\t2" in status.stdout

    listed = await acli("hunt", "findings", str(hunt["id"]), "--json", env=env)
    assert sorted(f["location"] for f in json.loads(listed.stdout)) == [
        f"{repos['storage']}/images/importer.py:6",
        f"{repos['storage']}/webhooks.py:8",
    ]

    shown = await acli("class", "show", "CWE-918", env=env)
    assert shown.exit_code == 0, shown.stderr
    assert "CWE-918 Server-Side Request Forgery (SSRF) (base): open" in shown.stdout
    assert "in CWE-1000: CWE-664" in shown.stdout and str(tracking) in shown.stdout
    assert (await acli("class", "show", "SSRF", env=env)).exit_code == 2
    refused = await acli(
        "hunt", "start", str(tracking), "--strategy", "components", "--no-wait", env=env
    )
    assert refused.exit_code == 1 and "purl: give the package URL" in refused.stderr
    assert (await acli("hunt", "status", "987654", env=env)).exit_code == 1
