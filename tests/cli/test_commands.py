"""The ``vulnops`` command, in this process (Typer's runner): what it prints, to which stream,
and its exit codes. test_fast_help.py runs the installed command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from helpers import MakeUser, acli, bearer, cli, sample, vulnops
from vulnops.auth.roles import Role
from vulnops.cases import service as cases_service
from vulnops.db.database import Database
from vulnops.db.migrate import head_revision
from vulnops.settings import Settings


def _env(conninfo: str, tmp_path: Path) -> dict[str, str]:
    return {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = {
        "VULNOPS_DATABASE_URL": "postgresql://ops:hunter2hunter2@db.internal:5432/vulnops",
        "VULNOPS_SECRET_KEY": "very-secret-signing-key",
        "VULNOPS_DATA_DIR": str(tmp_path),
    }
    result = cli("config", "show", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["database_url"] == "postgresql://ops:********@db.internal:5432/vulnops"
    assert shown["secret_key"] == "********"
    assert "hunter2" not in result.stdout
    assert "very-secret" not in result.stdout
    assert shown["data_dir"] == str(tmp_path)


def test_config_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "vulnops.toml"
    config.write_text('port = 9001\nlog_level = "debug"\n')
    result = cli(
        "--config",
        str(config),
        "config",
        "show",
        "--json",
        env={"VULNOPS_LOG_LEVEL": "warning", "VULNOPS_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["port"] == 9001
    assert shown["log_level"] == "warning"


def test_an_unknown_key_in_the_config_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "vulnops.toml"
    config.write_text("prot = 9001\n")
    result = cli("--config", str(config), "config", "show", env={})
    assert result.exit_code != 0
    assert "prot" in result.stderr


async def test_users_and_tokens_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    env = _env(conninfo, tmp_path)
    tenant = await acli("tenant", "create", "contoso", "--name", "Contoso", env=env)
    assert tenant.exit_code == 0, tenant.stderr
    created = await acli(
        "user",
        "create",
        "cam@example.com",
        "--role",
        "customer",
        "--tenant",
        "contoso",
        env=env,
    )
    assert created.exit_code == 0, created.stderr
    assert "password:" in created.stdout

    duplicate = await acli("user", "create", "cam@example.com", "--role", "engineer", env=env)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr

    listed = await acli("user", "list", "--role", "customer", env=env)
    assert listed.stdout.splitlines()[1].split("\t")[1] == "cam@example.com"
    assert "1 users" in listed.stderr  # piped: only rows on standard output

    token = await acli("token", "create", "cam@example.com", "--name", "script", env=env)
    assert token.exit_code == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    me = await client.get("/api/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["role"] == "customer"

    disabled = await acli("user", "disable", "cam@example.com", env=env)
    assert disabled.exit_code == 0, disabled.stderr
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 401

    log = await acli("audit", "log", "--kind", "user.disabled", env=env)
    assert "cli:" in log.stdout


def test_db_current_says_the_database_is_current(
    db: Database, conninfo: str, tmp_path: Path
) -> None:
    result = cli("db", "current", env=_env(conninfo, tmp_path))
    assert result.exit_code == 0, result.stderr
    assert f"database: {head_revision()} " in result.stdout
    assert "current" in result.stdout


@pytest.mark.slow
def test_with_no_database_configured_an_embedded_one_is_started_and_reused(
    tmp_path: Path,
) -> None:
    env = {"VULNOPS_DATA_DIR": str(tmp_path)}
    upgraded = vulnops("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    pgdata = tmp_path / "postgres"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "the server outlived the last command"

    again = vulnops("db", "current", env=env)
    assert again.returncode == 0, again.stderr
    assert f"database: {head_revision()} " in again.stdout


def test_score_cvss_prints_the_score_and_names_a_bad_metric(tmp_path: Path) -> None:
    env = {"VULNOPS_DATA_DIR": str(tmp_path)}
    good = cli("score", "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--json", env=env)
    assert good.exit_code == 0, good.stderr
    assert json.loads(good.stdout) == {
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "base_score": 9.8,
        "severity": "Critical",
    }
    bad = cli(
        "score", "cvss", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:Q/VI:H/VA:H/SC:N/SI:N/SA:N", env=env
    )
    assert bad.exit_code == 2
    assert '"VC:Q"' in bad.stderr


def test_score_ssvc(tmp_path: Path) -> None:
    env = {"VULNOPS_DATA_DIR": str(tmp_path)}
    result = cli(
        "score",
        "ssvc",
        "--exploitation",
        "active",
        "--automatable",
        "no",
        "--technical-impact",
        "total",
        "--mission-wellbeing",
        "high",
        "--json",
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["decision"] == "Act"
    plain = cli(
        "score",
        "ssvc",
        "--exploitation",
        "none",
        "--automatable",
        "no",
        "--technical-impact",
        "partial",
        "--mission-wellbeing",
        "low",
        env=env,
    )
    assert "Track" in plain.stdout
    wrong = cli(
        "score",
        "ssvc",
        "--exploitation",
        "rumoured",
        "--automatable",
        "no",
        "--technical-impact",
        "partial",
        "--mission-wellbeing",
        "low",
        env=env,
    )
    assert wrong.exit_code == 2 and "rumoured" in wrong.stderr


async def test_reports_and_cases_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, settings: Settings
) -> None:
    env = _env(conninfo, tmp_path)
    researcher = await make_user(Role.RESEARCHER)
    engineer = await make_user(Role.ENGINEER)
    report_file = tmp_path / "report.yaml"
    report_file.write_text(
        "title: Session fixation on the partner portal\n"
        "description: The session id survives sign-in.\n"
        "service: partners\n"
    )
    submitted = await acli("report", "submit", str(report_file), "--as", researcher.email, env=env)
    assert submitted.exit_code == 0, submitted.stderr
    tracking = submitted.stdout.strip().splitlines()[-1]
    assert tracking.startswith("VULN-")

    scan = await acli(
        "report",
        "submit",
        str(sample("sarif/trivy-alpine-310.sarif")),
        "--as",
        engineer.email,
        "--service",
        "images",
        env=env,
    )
    assert scan.exit_code == 0, scan.stderr
    assert "2 new report(s)" in scan.stdout

    invalid = tmp_path / "bad.yaml"
    invalid.write_text("description: no title\n")
    refused = await acli("report", "submit", str(invalid), "--as", researcher.email, env=env)
    assert refused.exit_code == 2 and "title" in refused.stderr

    listed = await acli("report", "list", "--as", engineer.email, "--source", "scanner", env=env)
    assert "CVE-2019-1549" in listed.stdout and "2 reports" in listed.stderr
    mine = await acli("report", "list", "--as", researcher.email, env=env)
    assert tracking in mine.stdout and "1 reports" in mine.stderr

    async with db.session() as session:
        case = await cases_service.open_case(
            session,
            title="Session fixation",
            summary="",
            services=["partners"],
            actor="t",
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    shown = await acli("case", "show", case.tracking_id, "--json", env=env)
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["title"] == "Session fixation"
    listed_cases = await acli("case", "list", env=env)
    assert case.tracking_id in listed_cases.stdout
    missing = await acli("case", "show", "CASE-1999-000001", env=env)
    assert missing.exit_code == 1 and "no case" in missing.stderr


async def test_fleet_generate_import_components_blast_and_export(
    db: Database, conninfo: str, tmp_path: Path, settings: Settings
) -> None:
    env = _env(conninfo, tmp_path)
    generated = await acli(
        "fleet", "generate", str(tmp_path / "fleet"), "--seed", "4", "--import", env=env
    )
    assert generated.exit_code == 0, generated.stderr
    assert "3000 resources, 15 sboms imported" in generated.stdout
    found = await acli(
        "fleet",
        "components",
        "pkg:npm/lodash",
        "--range",
        "vers:npm/<4.17.21",
        "--json",
        env=env,
    )
    assert found.exit_code == 0, found.stderr
    match = json.loads(found.stdout)
    assert match["versions_in_range"] == ["4.17.20"]
    assert {row["service_version"] for row in match["services"]} == {"2026.10.4"}
    async with db.session() as session:
        case = await cases_service.open_case(
            session,
            title="Old lodash",
            summary="",
            services=[],
            actor="t",
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    radius = await acli(
        "fleet",
        "blast-radius",
        case.tracking_id,
        "--component",
        "pkg:npm/lodash",
        "--range",
        "vers:npm/<4.17.21",
        "--json",
        env=env,
    )
    assert radius.exit_code == 0, radius.stderr
    assert json.loads(radius.stdout)["units"] > 0
    exported = await acli("fleet", "export", str(tmp_path / "out"), env=env)
    assert exported.exit_code == 0, exported.stderr
    assert (tmp_path / "out" / "resources.csv").read_text().count("\n") == 3001
    assert len(list((tmp_path / "out" / "sboms").iterdir())) == 15
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions:\n  - key: x-1\n    name: X\n    pair: x-1\n")
    refused = await acli("fleet", "import", "--topology", str(bad), env=env)
    assert refused.exit_code == 1 and "paired with itself" in refused.stderr


PASSING = '<testsuite name="s" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>'
FAILING = '<testsuite name="s"><testcase name="a"><failure message="boom"/></testcase></testsuite>'


async def test_fixes_and_rollouts_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, settings: Settings
) -> None:
    env = _env(conninfo, tmp_path)
    generated = await acli("fleet", "generate", str(tmp_path / "fleet"), "--import", env=env)
    assert generated.exit_code == 0, generated.stderr
    await make_user(Role.RELEASE_MANAGER, email="release@example.com")
    await make_user(Role.COMMUNICATIONS, email="comms@example.com")
    async with db.session() as session:
        case = await cases_service.open_case(
            session,
            title="SSRF in storage",
            summary="",
            services=["storage"],
            actor="t",
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()
    created = await acli(
        "fix", "create", case.tracking_id, "--service", "storage", "--version", "2026.12.1", env=env
    )
    assert created.exit_code == 0, created.stderr
    fix_id = created.stdout.splitlines()[1].split("\t")[0]
    assert fix_id.isdigit(), created.stdout
    early = await acli("rollout", "start", fix_id, env=env)
    assert early.exit_code == 1 and "compatibility" in early.stderr
    (tmp_path / "ok.xml").write_text(PASSING)
    (tmp_path / "bad.xml").write_text(FAILING)
    failed = await acli(
        "fix", "evidence", fix_id, str(tmp_path / "bad.xml"), "--suite", "compatibility", env=env
    )
    assert failed.exit_code == 0 and "FAILED (1 tests)" in failed.stdout
    for suite in ("compatibility", "data-integrity"):
        shown = await acli(
            "fix", "evidence", fix_id, str(tmp_path / "ok.xml"), "--suite", suite, env=env
        )
        assert shown.exit_code == 0, shown.stderr
    assert "passed (2 tests)" in shown.stdout and "\tyes\t" in shown.stdout
    planned = await acli("rollout", "plan", fix_id, env=env)
    assert planned.exit_code == 0, planned.stderr
    assert "storage → 2026.12.1, policy standard" in planned.stdout
    assert "canary" in planned.stdout and "pilot" in planned.stdout and "100.00%" in planned.stdout
    refused = await acli("rollout", "start", fix_id, "--as", "comms@example.com", env=env)
    assert refused.exit_code == 1 and "may not do this (rollouts:manage)" in refused.stderr
    started = await acli("rollout", "start", fix_id, "--as", "release@example.com", env=env)
    assert started.exit_code == 0, started.stderr
    rollout_id = started.stdout.split()[1].rstrip(":")
    assert started.stdout.endswith("running\n"), started.stdout
    again = await acli("rollout", "start", fix_id, env=env)
    assert again.exit_code == 1 and "already" in again.stderr
    status = await acli("rollout", "status", rollout_id, "--json", env=env)
    assert status.exit_code == 0, status.stderr
    snapshot = json.loads(status.stdout)
    assert snapshot["status"] == "running" and snapshot["stages"][0]["kind"] == "canary"
    listed = await acli("rollout", "list", "--status", "active", env=env)
    assert "2026.12.1" in listed.stdout and "release@example.com" in listed.stdout
    aborted = await acli("rollout", "abort", rollout_id, "--reason", "wrong build", env=env)
    assert aborted.exit_code == 0 and aborted.stdout.strip().endswith("aborted")
    watched = await acli("rollout", "watch", rollout_id, env=env)
    assert watched.exit_code == 5 and "aborted" in watched.stdout
    fault = await acli("sim", "fault", "storage", "2026.12.1", "--errors", "5", env=env)
    assert fault.exit_code == 0, fault.stderr
    assert "storage" in (await acli("sim", "faults", env=env)).stdout
    negative = await acli("sim", "fault", "storage", "x", "--crash-after", "-5m", env=env)
    assert negative.exit_code == 2 and "--crash-after" in negative.stderr


async def test_a_command_that_defers_a_job_works_in_a_fresh_process(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser
) -> None:
    """Submitting a report queues its acknowledgment job: the tasks are bound to the job
    application in a process that imported only what the command needs (the demo seeding,
    ``serve --demo``, once failed this way)."""
    researcher = await make_user(Role.RESEARCHER)
    report_file = tmp_path / "report.yaml"
    report_file.write_text("title: Open redirect on sign-out\ndescription: next= is followed.\n")
    env = {**_env(conninfo, tmp_path), "VULNOPS_SMTP_HOST": "127.0.0.1"}
    done = vulnops("report", "submit", str(report_file), "--as", researcher.email, env=env)
    assert done.returncode == 0, done.stderr
    async with db.session() as session:
        queued = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'intake:acknowledge'")
        )
    assert queued == 1
