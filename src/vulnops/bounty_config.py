"""The bug bounty's award policy: when an award needs a second person, and the first-finder rule.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart like :mod:`vulnops.oncall_config`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings
from standardwebhooks import Webhook


class BountyConfig(BaseSettings):
    bounty_approval_above: int = Field(
        default=500_000,
        ge=0,
        description="An award above this many minor units (cents: 500000 is $5,000.00) needs "
        "a second person's approval (when bounty_award is among the four-eyes steps); at or "
        "below it, the person who proposes it grants it. A programme's award table may set its "
        "own (approval_above, in the table's currency).",
    )
    bounty_duplicate_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="The share of the first finder's award a later external duplicate earns "
        "(0: nothing; Intigriti pays 0.2, YesWeHack 0.25).",
    )
    bounty_pay_when_known_internally: bool = Field(
        default=True,
        description="The first external reporter of an issue already known internally gets the "
        "full award (MSRC's rule since 2019).",
    )

    bounty_dispute_business_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="Business days (Monday to Friday) staff have to answer a researcher's "
        "dispute of an award or a closure (HackerOne's and Bugcrowd's first-response target).",
    )

    bounty_payout_backend: Literal["manual", "webhook"] = Field(
        default="manual",
        description="How payouts reach the payment system: manual (finance pays by hand and "
        "marks each payout paid with its reference) or webhook (posted, signed, to "
        "bounty_payout_webhook_url by a durable job).",
    )
    bounty_payout_webhook_url: str | None = Field(
        default=None, description="The payment system's endpoint for the webhook backend."
    )
    bounty_payout_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The Standard Webhooks secret (whsec_…) the payouts are signed with.",
    )

    @model_validator(mode="after")
    def _webhook_backend_complete(self) -> Self:
        if self.bounty_payout_backend != "webhook":
            return self
        if not self.bounty_payout_webhook_url or self.bounty_payout_webhook_secret is None:
            raise ValueError(
                "bounty_payout_backend webhook needs bounty_payout_webhook_url and "
                "bounty_payout_webhook_secret"
            )
        if not self.bounty_payout_webhook_url.startswith(("https://", "http://")):
            raise ValueError("bounty_payout_webhook_url: an http(s) URL")
        try:
            Webhook(self.bounty_payout_webhook_secret.get_secret_value())
        except Exception as error:  # the library raises its own base64 errors
            raise ValueError(f"bounty_payout_webhook_secret: {error}") from None
        return self

    @property
    def duplicate_share(self) -> Fraction:
        return Fraction(self.bounty_duplicate_share).limit_denominator(10_000)
