"""Post-incident reviews: which cases get one without being asked.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart like :mod:`vulnops.variants_config`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class ReviewConfig(BaseSettings):
    review_automatic_from: Literal["critical", "important", "moderate", "low", "never"] = Field(
        default="important",
        description="A case of this rating or higher gets its post-incident review (a draft, "
        "its participants asked for their feedback) when it is mitigated; never: only by hand.",
    )
