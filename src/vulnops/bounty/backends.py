"""Payout backends: how a payout reaches the company's payment system, behind one small interface.

- ``manual``: nothing is sent; finance pays by hand and marks the payout paid (or failed) with
  the payment system's reference.
- ``webhook``: the payout is posted, signed (Standard Webhooks: ``webhook-id`` is the payout's
  key, so the payment system can tell a resend from a new payout), to the company's payment
  system, which answers ``paid``, ``failed`` or ``accepted`` (it will answer later) with its
  reference. An error status or no answer raises, and sending again is safe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ValidationError
from standardwebhooks import Webhook

from vulnops.errors import Upstream
from vulnops.settings import Settings

TIMEOUT = httpx.Timeout(10.0)
Status = Literal["paid", "failed", "accepted"]


@dataclass(frozen=True)
class PayoutOrder:
    key: str
    researcher_id: int
    amount: int  # minor units
    currency: str
    payment_reference: str
    country: str


class Answer(BaseModel):
    status: Status
    reference: str = ""


class PayoutBackend(Protocol):
    name: str

    async def send(self, order: PayoutOrder) -> Answer: ...


class ManualBackend:
    """Finance pays by hand: every payout waits to be marked."""

    name = "manual"

    async def send(self, order: PayoutOrder) -> Answer:
        return Answer(status="accepted", reference="to be paid by hand")


class WebhookBackend:
    name = "webhook"

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret

    def body(self, order: PayoutOrder) -> str:
        return json.dumps(
            {
                "type": "bounty.payout",
                "payout": order.key,
                "researcher": order.researcher_id,
                "amount": order.amount,
                "currency": order.currency,
                "payment_reference": order.payment_reference,
                "country": order.country,
            },
            separators=(",", ":"),
        )

    async def send(self, order: PayoutOrder) -> Answer:
        now = datetime.now(UTC)
        body = self.body(order)
        headers = {
            "content-type": "application/json",
            "webhook-id": order.key,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(order.key, now, body),
        }
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
                response = await client.post(self.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as error:
            raise Upstream(f"the payment system did not answer: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise Upstream(f"the payment system answered {response.status_code}")
        try:
            return Answer.model_validate_json(response.content)
        except ValidationError:
            raise Upstream("the payment system's answer was not understood") from None


def configured(settings: Settings) -> PayoutBackend:
    """The backend the settings name (their validation made sure the webhook's are complete)."""
    if settings.bounty_payout_backend == "webhook":
        assert settings.bounty_payout_webhook_url
        assert settings.bounty_payout_webhook_secret
        return WebhookBackend(
            settings.bounty_payout_webhook_url,
            settings.bounty_payout_webhook_secret.get_secret_value(),
        )
    return ManualBackend()
