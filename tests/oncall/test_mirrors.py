"""Pages mirrored to the tools a team keeps, each received by a real HTTP server speaking its
format: a Slack-compatible incoming webhook, a Standard Webhooks receiver that verifies every
signature, and one that checks PagerDuty Events API v2's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from sqlalchemy import text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from helpers import run_jobs_until, serving
from vulnops.db.database import Database
from vulnops.oncall import paging
from vulnops.settings import Settings

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a test secret (base64)
ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE"
PAGERDUTY_ACTIONS = {"trigger", "acknowledge", "resolve"}
PAGERDUTY_SEVERITIES = {"critical", "error", "warning", "info"}


@dataclass
class Receivers:
    chat: list[dict[str, Any]] = field(default_factory=list)
    webhook: list[dict[str, Any]] = field(default_factory=list)
    pagerduty: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/slack")
        async def slack(request: Request) -> JSONResponse:
            body = await request.json()
            if set(body) != {"text"} or not isinstance(body["text"], str):
                self.refused.append(f"chat: {body}")
                return JSONResponse({"ok": False}, status_code=400)
            self.chat.append(body)
            return JSONResponse({"ok": True})

        @app.post("/hook")
        async def hook(request: Request) -> JSONResponse:
            raw = await request.body()
            try:
                payload = Webhook(SECRET).verify(raw, dict(request.headers))
            except WebhookVerificationError as error:
                self.refused.append(f"webhook: {error}")
                return JSONResponse({}, status_code=401)
            self.webhook.append({"id": request.headers["webhook-id"], **payload})
            return JSONResponse({})

        @app.post("/v2/enqueue")
        async def pagerduty(request: Request) -> JSONResponse:
            event = await request.json()
            problems = _pagerduty_problems(event)
            if problems:
                self.refused.append(f"pagerduty: {problems}")
                return JSONResponse({"status": "invalid event", "errors": problems}, 400)
            self.pagerduty.append(event)
            return JSONResponse(
                {"status": "success", "dedup_key": event["dedup_key"]}, status_code=202
            )

        return app


def _pagerduty_problems(event: dict[str, Any]) -> list[str]:
    """What PagerDuty's Events API v2 would refuse."""
    problems = []
    if event.get("routing_key") != ROUTING_KEY:
        problems.append("routing_key")
    if event.get("event_action") not in PAGERDUTY_ACTIONS:
        problems.append("event_action")
    if not 1 <= len(str(event.get("dedup_key", ""))) <= 255:
        problems.append("dedup_key")
    if event.get("event_action") == "trigger":
        payload = event.get("payload") or {}
        if not payload.get("summary") or len(payload["summary"]) > 1024:
            problems.append("payload.summary")
        if not payload.get("source"):
            problems.append("payload.source")
        if payload.get("severity") not in PAGERDUTY_SEVERITIES:
            problems.append("payload.severity")
    return problems


async def test_a_page_is_triggered_acknowledged_and_resolved_in_every_tool(
    db: Database, settings: Settings
) -> None:
    receivers = Receivers()
    with serving(receivers.app()) as url:
        mirrored = settings.model_copy(
            update={
                "oncall_chat_webhook_url": f"{url}/slack",
                "oncall_webhook_url": f"{url}/hook",
                "oncall_webhook_secret": SecretStr(SECRET),
                "pagerduty_routing_key": SecretStr(ROUTING_KEY),
                "pagerduty_events_url": f"{url}/v2/enqueue",
            }
        )
        now = datetime.now(UTC)
        async with db.session() as session:
            raised = await paging.raise_page(
                session,
                dedup_key="alert:db-7-disk",
                title="Disk full on db-7",
                urgency="high",
                source="alert",
                services=[],
                actor="t",
                now=now,
                settings=mirrored,
            )
            await session.commit()
        page_id = raised.page.id
        async with db.session() as session:
            await paging.acknowledge(
                session, page_id=page_id, actor="bob@example.com", now=now, settings=mirrored
            )
            await paging.resolve(
                session, page_id=page_id, actor="bob@example.com", now=now, settings=mirrored
            )
            await session.commit()

        async def arrived() -> bool:
            return min(map(len, (receivers.chat, receivers.webhook, receivers.pagerduty))) >= 3

        await run_jobs_until(db, mirrored, arrived)
    assert receivers.refused == []
    actions = sorted(event["event_action"] for event in receivers.pagerduty)
    assert actions == ["acknowledge", "resolve", "trigger"]
    assert {event["dedup_key"] for event in receivers.pagerduty} == {"alert:db-7-disk"}
    trigger = next(e for e in receivers.pagerduty if e["event_action"] == "trigger")
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["summary"] == "Disk full on db-7"
    assert sorted(m["type"] for m in receivers.webhook) == [
        "page.acknowledged",
        "page.resolved",
        "page.triggered",
    ]
    assert {m["id"] for m in receivers.webhook} == {
        f"page-{page_id}-{event}" for event in ("triggered", "acknowledged", "resolved")
    }
    texts = sorted(m["text"] for m in receivers.chat)
    assert any(t.startswith("Acknowledged by bob@example.com: [high]") for t in texts)
    assert any(t.startswith(f"Paged: [high] page #{page_id} Disk full on db-7") for t in texts)


async def test_without_a_tool_configured_nothing_is_queued(
    db: Database, settings: Settings
) -> None:
    async with db.session() as session:
        await paging.raise_page(
            session,
            dedup_key="k",
            title="t",
            urgency="low",
            source="alert",
            services=[],
            actor="t",
            now=datetime.now(UTC),
            settings=settings,
        )
        await session.commit()
        jobs = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'oncall:mirror'")
        )
    assert jobs == 0
