"""What raises a page: the rules of the on-call, with their defaults.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart like :mod:`vulnops.disclosure_config`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class OncallConfig(BaseSettings):
    page_ratings: list[str] = Field(
        default_factory=lambda: ["critical", "important"],
        description="A case with one of these ratings pages the on-call (once per case).",
    )
    page_on_act: bool = Field(
        default=True, description="A case whose SSVC decision is Act pages the on-call."
    )
