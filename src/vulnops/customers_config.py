"""The customers' conversations about their advisories: how soon a question must be answered,
by the case's rating, and which ratings page the on-call when it is not.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart like :mod:`vulnops.review_config`.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

RATINGS = ("critical", "important", "moderate", "low")


class CustomersConfig(BaseSettings):
    question_answer_hours: dict[str, float] = Field(
        default_factory=lambda: {
            "critical": 4.0,
            "important": 24.0,
            "moderate": 72.0,
            "low": 120.0,
        },
        description="Hours to answer a customer's question about an advisory, by the case's "
        "rating (JSON; a case not rated yet counts as moderate).",
    )
    question_page_ratings: list[str] = Field(
        default_factory=lambda: ["critical"],
        description="A question about a case with one of these ratings left unanswered past its "
        "time pages the on-call (once per question).",
    )

    attachment_bytes_per_conversation: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Attachment bytes one conversation about an advisory may hold, both sides "
        "together (413 beyond; each file and each account's day follow the reports' limits).",
    )

    @field_validator("question_answer_hours")
    @classmethod
    def _every_rating(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(RATINGS))
        missing = [r for r in RATINGS if r not in value]
        if unknown or missing:
            raise ValueError(
                f"give hours for exactly {', '.join(RATINGS)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
        if any(hours <= 0 for hours in value.values()):
            raise ValueError("every answer time must be more than 0 hours")
        return value

    @field_validator("question_page_ratings")
    @classmethod
    def _known_ratings(cls, value: list[str]) -> list[str]:
        if unknown := sorted(set(value) - set(RATINGS)):
            raise ValueError(f"unknown ratings: {', '.join(unknown)}")
        return value

    def answer_hours(self, rating: str | None) -> float:
        return self.question_answer_hours[rating if rating in RATINGS else "moderate"]
