"""The ``vulnops`` command, run as a user runs it: in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from helpers import bearer
from vulnops.db.database import Database


def vulnops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("VULNOPS_")}
    return subprocess.run(
        [sys.executable, "-m", "vulnops", *args],
        env={**inherited, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


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
    assert "database: 0001" in result.stdout
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
    assert "database: 0001" in again.stdout
