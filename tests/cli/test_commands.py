"""The ``vulnops`` command, run as a user runs it: in its own process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from helpers import MakeUser, bearer, sample, vulnops
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
    result = vulnops("config", "show", "--json", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["database_url"] == "postgresql://ops:********@db.internal:5432/vulnops"
    assert shown["secret_key"] == "********"
    assert "hunter2" not in result.stdout
    assert "very-secret" not in result.stdout
    assert shown["data_dir"] == str(tmp_path)


def test_config_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "vulnops.toml"
    config.write_text('port = 9001\nlog_level = "debug"\n')
    result = vulnops(
        "--config",
        str(config),
        "config",
        "show",
        "--json",
        env={"VULNOPS_LOG_LEVEL": "warning", "VULNOPS_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["port"] == 9001
    assert shown["log_level"] == "warning"


def test_an_unknown_key_in_the_config_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "vulnops.toml"
    config.write_text("prot = 9001\n")
    result = vulnops("--config", str(config), "config", "show", env={})
    assert result.returncode != 0
    assert "prot" in result.stderr


async def test_users_and_tokens_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    env = _env(conninfo, tmp_path)
    tenant = vulnops("tenant", "create", "contoso", "--name", "Contoso", env=env)
    assert tenant.returncode == 0, tenant.stderr
    created = vulnops(
        "user",
        "create",
        "cam@example.com",
        "--role",
        "customer",
        "--tenant",
        "contoso",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert "password:" in created.stdout

    duplicate = vulnops("user", "create", "cam@example.com", "--role", "engineer", env=env)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    listed = vulnops("user", "list", "--role", "customer", env=env)
    assert "cam@example.com" in listed.stdout
    assert "1 users" in listed.stdout

    token = vulnops("token", "create", "cam@example.com", "--name", "script", env=env)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    me = await client.get("/api/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["role"] == "customer"

    disabled = vulnops("user", "disable", "cam@example.com", env=env)
    assert disabled.returncode == 0, disabled.stderr
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 401

    log = vulnops("audit", "log", "--kind", "user.disabled", env=env)
    assert "cli:" in log.stdout


def test_db_current_says_the_database_is_current(
    db: Database, conninfo: str, tmp_path: Path
) -> None:
    result = vulnops("db", "current", env=_env(conninfo, tmp_path))
    assert result.returncode == 0, result.stderr
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
    good = vulnops(
        "score", "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--json", env=env
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout) == {
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "base_score": 9.8,
        "severity": "Critical",
    }
    bad = vulnops(
        "score", "cvss", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:Q/VI:H/VA:H/SC:N/SI:N/SA:N", env=env
    )
    assert bad.returncode == 2
    assert '"VC:Q"' in bad.stderr


def test_score_ssvc(tmp_path: Path) -> None:
    env = {"VULNOPS_DATA_DIR": str(tmp_path)}
    result = vulnops(
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
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["decision"] == "Act"
    plain = vulnops(
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
    wrong = vulnops(
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
    assert wrong.returncode == 2 and "rumoured" in wrong.stderr


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
    submitted = vulnops("report", "submit", str(report_file), "--as", researcher.email, env=env)
    assert submitted.returncode == 0, submitted.stderr
    tracking = submitted.stdout.strip().splitlines()[-1]
    assert tracking.startswith("VULN-")

    scan = vulnops(
        "report",
        "submit",
        str(sample("sarif/trivy-alpine-310.sarif")),
        "--as",
        engineer.email,
        "--service",
        "images",
        env=env,
    )
    assert scan.returncode == 0, scan.stderr
    assert "2 new report(s)" in scan.stdout

    invalid = tmp_path / "bad.yaml"
    invalid.write_text("description: no title\n")
    refused = vulnops("report", "submit", str(invalid), "--as", researcher.email, env=env)
    assert refused.returncode == 2 and "title" in refused.stderr

    listed = vulnops("report", "list", "--as", engineer.email, "--source", "scanner", env=env)
    assert "CVE-2019-1549" in listed.stdout and "2 reports" in listed.stdout
    mine = vulnops("report", "list", "--as", researcher.email, env=env)
    assert tracking in mine.stdout and "1 reports" in mine.stdout

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
    shown = vulnops("case", "show", case.tracking_id, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["title"] == "Session fixation"
    listed_cases = vulnops("case", "list", env=env)
    assert case.tracking_id in listed_cases.stdout
    missing = vulnops("case", "show", "CASE-1999-000001", env=env)
    assert missing.returncode == 1 and "no case" in missing.stderr


async def test_fleet_generate_import_components_blast_and_export(
    db: Database, conninfo: str, tmp_path: Path, settings: Settings
) -> None:
    env = _env(conninfo, tmp_path)
    generated = vulnops(
        "fleet", "generate", str(tmp_path / "fleet"), "--seed", "4", "--import", env=env
    )
    assert generated.returncode == 0, generated.stderr
    assert "3000 resources, 15 sboms imported" in generated.stdout
    found = vulnops(
        "fleet",
        "components",
        "pkg:npm/lodash",
        "--range",
        "vers:npm/<4.17.21",
        "--json",
        env=env,
    )
    assert found.returncode == 0, found.stderr
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
    radius = vulnops(
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
    assert radius.returncode == 0, radius.stderr
    assert json.loads(radius.stdout)["units"] > 0
    exported = vulnops("fleet", "export", str(tmp_path / "out"), env=env)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out" / "resources.csv").read_text().count("\n") == 3001
    assert len(list((tmp_path / "out" / "sboms").iterdir())) == 15
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions:\n  - key: x-1\n    name: X\n    pair: x-1\n")
    refused = vulnops("fleet", "import", "--topology", str(bad), env=env)
    assert refused.returncode == 1 and "paired with itself" in refused.stderr


PASSING = '<testsuite name="s" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>'
FAILING = '<testsuite name="s"><testcase name="a"><failure message="boom"/></testcase></testsuite>'


async def test_fixes_and_rollouts_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, make_user: MakeUser, settings: Settings
) -> None:
    env = _env(conninfo, tmp_path)
    assert (
        vulnops("fleet", "generate", str(tmp_path / "fleet"), "--import", env=env).returncode == 0
    )
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
    created = vulnops(
        "fix", "create", case.tracking_id, "--service", "storage", "--version", "2026.12.1", env=env
    )
    assert created.returncode == 0, created.stderr
    fix_id = created.stdout.split("│")[1].strip() if "│" in created.stdout else ""
    assert fix_id.isdigit(), created.stdout
    early = vulnops("rollout", "start", fix_id, env=env)
    assert early.returncode == 1 and "compatibility" in early.stderr
    (tmp_path / "ok.xml").write_text(PASSING)
    (tmp_path / "bad.xml").write_text(FAILING)
    failed = vulnops(
        "fix", "evidence", fix_id, str(tmp_path / "bad.xml"), "--suite", "compatibility", env=env
    )
    assert failed.returncode == 0 and "FAILED (1 tests)" in failed.stdout
    for suite in ("compatibility", "data-integrity"):
        shown = vulnops(
            "fix", "evidence", fix_id, str(tmp_path / "ok.xml"), "--suite", suite, env=env
        )
        assert shown.returncode == 0, shown.stderr
    assert "passed (2 tests)" in shown.stdout and " yes " in shown.stdout
    planned = vulnops("rollout", "plan", fix_id, env=env)
    assert planned.returncode == 0, planned.stderr
    assert "storage → 2026.12.1, policy standard" in planned.stdout
    assert "canary" in planned.stdout and "pilot" in planned.stdout and "100.00%" in planned.stdout
    refused = vulnops("rollout", "start", fix_id, "--as", "comms@example.com", env=env)
    assert refused.returncode == 1 and "may not do this (rollouts:manage)" in refused.stderr
    started = vulnops("rollout", "start", fix_id, "--as", "release@example.com", env=env)
    assert started.returncode == 0, started.stderr
    rollout_id = started.stdout.split()[1].rstrip(":")
    assert started.stdout.endswith("running\n"), started.stdout
    again = vulnops("rollout", "start", fix_id, env=env)
    assert again.returncode == 1 and "already" in again.stderr
    status = vulnops("rollout", "status", rollout_id, "--json", env=env)
    assert status.returncode == 0, status.stderr
    snapshot = json.loads(status.stdout)
    assert snapshot["status"] == "running" and snapshot["stages"][0]["kind"] == "canary"
    listed = vulnops("rollout", "list", "--status", "active", env=env)
    assert "2026.12.1" in listed.stdout and "release@example.com" in listed.stdout
    aborted = vulnops("rollout", "abort", rollout_id, "--reason", "wrong build", env=env)
    assert aborted.returncode == 0 and aborted.stdout.strip().endswith("aborted")
    watched = vulnops("rollout", "watch", rollout_id, env=env)
    assert watched.returncode == 0, watched.stderr
    assert "aborted" in watched.stdout
    fault = vulnops("sim", "fault", "storage", "2026.12.1", "--errors", "5", env=env)
    assert fault.returncode == 0, fault.stderr
    assert "storage" in vulnops("sim", "faults", env=env).stdout
    negative = vulnops("sim", "fault", "storage", "x", "--crash-after", "-5m", env=env)
    assert negative.returncode == 2 and "--crash-after" in negative.stderr
