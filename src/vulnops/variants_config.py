"""Root causes and variant hunts: when a root cause is required, and how Semgrep is run.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart like :mod:`vulnops.bounty_config`.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class VariantsConfig(BaseSettings):
    root_cause_required_from: Literal["critical", "important", "moderate", "low", "never"] = Field(
        default="important",
        description="A case of this rating or higher cannot be closed without a root-cause "
        "analysis that names its weakness and its cause (never: not required).",
    )
    semgrep: str | None = Field(
        default=None,
        max_length=1000,
        description="The semgrep command for code hunts; unset: `semgrep` on the PATH, else the "
        "one `make` installs beside the virtual environment (.venv/tools-semgrep).",
    )
    hunt_parallel: int = Field(
        default=max(1, os.cpu_count() or 1),
        ge=1,
        le=64,
        description="How many Semgrep processes a code hunt runs at once (one per repository).",
    )
    hunt_timeout_seconds: int = Field(
        default=1800,
        ge=10,
        le=86_400,
        description="A repository whose Semgrep run takes longer is listed as failed.",
    )
