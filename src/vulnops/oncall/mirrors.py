"""Every page, mirrored to the tools a team keeps: a chat channel (a Slack-compatible incoming
webhook, which Slack, Mattermost and Teams accept), a generic webhook signed with Standard
Webhooks, and PagerDuty's Events API v2 (trigger, acknowledge, resolve, with the page's
dedup key). Each is a job deferred with the page event (retried by procrastinate), so a
message may arrive twice after a crash: PagerDuty deduplicates by dedup key, a webhook receiver
by ``webhook-id``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from vulnops.db.database import raw_connection
from vulnops.jobcontext import bound
from vulnops.oncall.channels import chat_escaped
from vulnops.oncall.models import Page
from vulnops.settings import Settings

Event = Literal["triggered", "acknowledged", "resolved"]
TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class Mirror:
    name: str

    def configured(self, settings: Settings) -> bool:
        return bool(
            {
                "chat": settings.oncall_chat_webhook_url,
                "webhook": settings.oncall_webhook_url and settings.oncall_webhook_secret,
                "pagerduty": settings.pagerduty_routing_key,
            }[self.name]
        )


MIRRORS = (Mirror("chat"), Mirror("webhook"), Mirror("pagerduty"))


async def defer(session: AsyncSession, page: Page, event: Event, *, settings: Settings) -> None:
    """One mirror job per configured tool, in the caller's transaction."""
    from vulnops.oncall.tasks import mirror  # noqa: PLC0415 - the tasks import this module

    for found in MIRRORS:
        if found.configured(settings):
            connection = await raw_connection(session)
            await (
                bound(mirror)
                .configure(connection=connection)
                .defer_async(page_id=page.id, event=event, target=found.name)
            )


def page_url(settings: Settings, page_id: int) -> str:
    """Where a person sees a page (the list of every page, at its row)."""
    return f"{settings.public_url.rstrip('/')}/pages?every=1#page-{page_id}"


def chat_message(page: Page, event: Event, settings: Settings) -> dict[str, Any]:
    verb = {"triggered": "Paged", "acknowledged": "Acknowledged", "resolved": "Resolved"}[event]
    who = page.acknowledged_by if event == "acknowledged" else page.resolved_by
    by = f" by {who}" if who and event != "triggered" else ""
    text = (
        f"{verb}{by}: [{page.urgency}] page #{page.id} {chat_escaped(page.subject)} "
        f"<{page_url(settings, page.id)}>"
    )
    return {"text": text}


def webhook_payload(page: Page, event: Event, at: datetime) -> dict[str, Any]:
    return {
        "type": f"page.{event}",
        "timestamp": at.isoformat(),
        "data": {
            "page_id": page.id,
            "dedup_key": page.dedup_key,
            "subject": page.subject,
            "urgency": page.urgency,
            "status": page.status,
            "source": page.source,
            "acknowledged_by": page.acknowledged_by,
            "resolved_by": page.resolved_by,
        },
    }


def pagerduty_event(page: Page, event: Event, settings: Settings) -> dict[str, Any]:
    assert settings.pagerduty_routing_key is not None
    action = {"triggered": "trigger", "acknowledged": "acknowledge", "resolved": "resolve"}[event]
    body: dict[str, Any] = {
        "routing_key": settings.pagerduty_routing_key.get_secret_value(),
        "event_action": action,
        "dedup_key": page.dedup_key,
    }
    if action == "trigger":
        body["payload"] = {
            "summary": page.subject[:1024],
            "source": "vulnops",
            "severity": "critical" if page.urgency == "high" else "warning",
            "timestamp": page.created_at.isoformat(),
            "component": page.source,
            "custom_details": {"page_id": page.id, "case_id": page.case_id},
        }
        body["links"] = [{"href": page_url(settings, page.id), "text": f"vulnops page #{page.id}"}]
    return body


async def send(page: Page, event: Event, target: str, *, settings: Settings) -> int:
    """Post one mirror message; the receiver's status (an error status raises, so the job is
    retried)."""
    now = datetime.now(UTC)
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        if target == "chat":
            assert settings.oncall_chat_webhook_url is not None
            response = await client.post(
                settings.oncall_chat_webhook_url, json=chat_message(page, event, settings)
            )
        elif target == "pagerduty":
            response = await client.post(
                settings.pagerduty_events_url, json=pagerduty_event(page, event, settings)
            )
        else:
            assert settings.oncall_webhook_url is not None
            assert settings.oncall_webhook_secret is not None
            message_id = f"page-{page.id}-{event}"
            body = json.dumps(webhook_payload(page, event, now), separators=(",", ":"))
            signature = Webhook(settings.oncall_webhook_secret.get_secret_value()).sign(
                message_id, now, body
            )
            response = await client.post(
                settings.oncall_webhook_url,
                content=body.encode(),
                headers={
                    "content-type": "application/json",
                    "webhook-id": message_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": signature,
                },
            )
    response.raise_for_status()
    return response.status_code
