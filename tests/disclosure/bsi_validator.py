"""The BSI's CSAF validator: ``@secvisogram/csaf-validator-lib`` from the npm registry, run
with Node.js (installed by the first test that needs it; the tests skip, saying so, where
Node.js or npm is missing). Its schema test and every mandatory test must pass; the optional
tests' findings are returned, for the docs to list."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "bsi"
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "vulnops-tests"
    / "csaf-validator"
)
PACKAGE = "@secvisogram/csaf-validator-lib@2"


@dataclass(frozen=True)
class Verdict:
    failures: list[str]  # the schema and mandatory tests'
    findings: list[str]  # the optional tests'


def _installed() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the BSI CSAF validator")
    if not (CACHE / "node_modules" / "@secvisogram" / "csaf-validator-lib").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text('{"private": true, "type": "module"}')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", PACKAGE],
            cwd=CACHE,
            check=True,
            timeout=300,
        )
    shutil.copy(HERE / "validate.mjs", CACHE / "validate.mjs")
    return CACHE


def validate(*documents: dict[str, Any]) -> list[Verdict]:
    """Each document's verdict, all in one run of the validator."""
    ran = subprocess.run(
        ["node", "validate.mjs"],
        cwd=_installed(),
        input=json.dumps(list(documents)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [Verdict(**verdict) for verdict in json.loads(ran.stdout)]


def assert_passes(*documents: dict[str, Any]) -> list[Verdict]:
    """Every document passes the schema and mandatory tests; their verdicts."""
    verdicts = validate(*documents)
    failures = [failure for verdict in verdicts for failure in verdict.failures]
    assert failures == [], failures
    return verdicts
