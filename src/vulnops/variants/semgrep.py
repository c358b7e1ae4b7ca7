"""Semgrep, run as a subprocess (its Python package cannot share our environment: it pins
its own OpenTelemetry), one process per batch of repositories: a rule checked against an empty
directory before a hunt starts (Semgrep's own message refuses it), and a scan that returns SARIF.

Semgrep runs offline: metrics off, no version check, the rule from a local file.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulnops.errors import Conflict, Invalid
from vulnops.settings import Settings

MAX_RULE_CHARS = 100_000
# Semgrep's exit codes for "ran, with or without findings" (1: findings with --error).
_RAN = {0, 1}
_QUIET = ("--metrics=off", "--disable-version-check", "--quiet")


def command(settings: Settings) -> str:
    """The semgrep executable: the setting, the PATH, or the one ``make`` installs."""
    if settings.semgrep:
        return settings.semgrep
    found = shutil.which("semgrep")
    if found:
        return found
    beside = Path(sys.prefix) / "tools-semgrep" / "bin" / "semgrep"
    if beside.exists():
        return str(beside)
    raise Conflict(
        "Semgrep is not installed: run `make` (it installs it in .venv/tools-semgrep) or set "
        "VULNOPS_SEMGREP to its path"
    )


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes


async def _run(arguments: list[str], *, cwd: Path, seconds: float) -> Ran:
    process = await asyncio.create_subprocess_exec(
        *arguments,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Ran(process.returncode or 0, stdout, stderr)


def _errors(output: dict[str, Any]) -> list[str]:
    return [
        str(error.get("message") or error.get("long_msg") or error.get("type"))
        for error in output.get("errors", [])
        if error.get("level") == "error"
    ]


async def check_rule(rule: str, *, settings: Settings) -> None:
    """Refuse a rule Semgrep cannot read, with Semgrep's own message (Invalid on ``rule``)."""
    if not rule.strip():
        raise Invalid("rule: write a Semgrep rule (YAML with a rules: list)", field="rule")
    if len(rule) > MAX_RULE_CHARS:
        raise Invalid(f"rule: at most {MAX_RULE_CHARS:,} characters", field="rule")
    executable = command(settings)
    with tempfile.TemporaryDirectory(prefix="vulnops-rule-") as folder:
        place = Path(folder)
        (place / "rule.yaml").write_text(rule, encoding="utf-8")
        (place / "empty").mkdir()
        ran = await _run(
            [executable, "scan", "--config", "rule.yaml", "--json", *_QUIET, "empty"],
            cwd=place,
            seconds=120,
        )
    try:
        output = json.loads(ran.stdout)
    except ValueError:
        output = {"errors": [{"level": "error", "message": ran.stderr.decode(errors="replace")}]}
    problems = _errors(output)
    if problems or ran.returncode not in _RAN:
        message = "; ".join(p.strip() for p in problems) or f"exit code {ran.returncode}"
        raise Invalid(f"rule: Semgrep cannot use it: {message[:2000]}", field="rule")


class ScanFailed(Exception):
    """Semgrep did not finish a repository (the hunt lists it as failed, with this message)."""


async def scan(rule: str, *, repositories: list[Path], settings: Settings) -> dict[str, Any]:
    """The SARIF log of the rule over these repositories (its paths absolute)."""
    executable = command(settings)
    # The rule file in the working directory: Semgrep prefixes each rule id with the rule
    # file's directories, relative to where it runs.
    with tempfile.TemporaryDirectory(prefix="vulnops-hunt-") as folder:
        (Path(folder) / "rule.yaml").write_text(rule, encoding="utf-8")
        try:
            arguments = ["scan", "--config", "rule.yaml", "--sarif", "-j", "1", *_QUIET]
            ran = await _run(
                [executable, *arguments, *map(str, repositories)],
                cwd=Path(folder),
                seconds=settings.hunt_timeout_seconds,
            )
        except TimeoutError as exc:
            raise ScanFailed(f"Semgrep took longer than {settings.hunt_timeout_seconds} s") from exc
    if ran.returncode not in _RAN:
        detail = ran.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ScanFailed(f"Semgrep exited with {ran.returncode}: {detail[0][:500]}")
    try:
        document: dict[str, Any] = json.loads(ran.stdout)
    except ValueError as exc:
        raise ScanFailed("Semgrep's output is not SARIF JSON") from exc
    return document
