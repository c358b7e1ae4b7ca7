"""What raises a page (the rules, with their defaults), and the tools every page is mirrored to:
a chat channel (Slack-compatible incoming webhook), a signed generic webhook, PagerDuty.

A part of :class:`vulnops.settings.Settings` (which derives from this class, with the same
``VULNOPS_*`` names), apart like :mod:`vulnops.disclosure_config`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class OncallConfig(BaseSettings):
    page_ratings: list[str] = Field(
        default_factory=lambda: ["critical", "important"],
        description="A case with one of these ratings pages the on-call (once per case).",
    )
    page_on_act: bool = Field(
        default=True, description="A case whose SSVC decision is Act pages the on-call."
    )
    page_on_rollouts: bool = Field(
        default=True,
        description="A rollout stage that fails its gate or holds without a verdict, or a "
        "rollout that halts, pages the on-call (one open page per rollout).",
    )
    page_on_dead_deliveries: bool = Field(
        default=True,
        description="Advisory deliveries that die page the on-call (one open page per advisory).",
    )
    page_deadline_fraction: float = Field(
        default=0.75,
        ge=0,
        lt=1,
        description="A case's deadline this far through its time with the milestone not "
        "reached pages the on-call, once per case and milestone (0: never).",
    )
    alert_events_per_minute: int = Field(
        default=120, ge=1, description="Events one alert source may send in a minute."
    )
    oncall_chat_webhook_url: str | None = Field(
        default=None,
        description="A Slack-compatible incoming webhook (Slack, Mattermost, Teams): every "
        "page's trigger, acknowledgment and resolution is posted there.",
    )
    oncall_webhook_url: str | None = Field(
        default=None, description="A receiver of every page event, signed (Standard Webhooks)."
    )
    oncall_webhook_secret: SecretStr | None = Field(
        default=None, description="The Standard Webhooks secret (whsec_…) that signs them."
    )
    pagerduty_routing_key: SecretStr | None = Field(
        default=None,
        description="A PagerDuty Events API v2 integration key: pages are triggered, "
        "acknowledged and resolved there too, with the same dedup_key.",
    )
    pagerduty_events_url: str = Field(
        default="https://events.pagerduty.com/v2/enqueue",
        description="PagerDuty's Events API v2 endpoint.",
    )
