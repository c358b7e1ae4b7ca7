"""Alerts in, from detection systems: PagerDuty Events API v2 events and Alertmanager webhooks.

Each source has an integration key (shown once, stored as its SHA-256). A ``trigger`` (a firing
alert) files a report (source ``detection``, with the alert's fields) and raises a page; an
event with the same dedup key while that page is open updates it (nothing new is raised); a
``resolve`` resolves it, an ``acknowledge`` acknowledges it. A source sends at most
``alert_events_per_minute`` events a minute (429 beyond, with Retry-After).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.tokens import secret_hash
from vulnops.db.bounded import Input
from vulnops.errors import Conflict, Invalid, RateLimited, Unauthenticated
from vulnops.intake import service as intake
from vulnops.oncall import paging
from vulnops.oncall.models import AlertSource, Page
from vulnops.settings import Settings

KEY_PREFIX = "vi_"


class PagerDutyPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    component: str | None = Field(default=None, max_length=255)
    custom_details: dict[str, Any] | None = None


class PagerDutyEvent(Input):
    """PagerDuty Events API v2 (``/v2/enqueue``): the integration key is ``routing_key``."""

    model_config = ConfigDict(extra="allow")

    routing_key: str = Field(min_length=1, max_length=200)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, min_length=1, max_length=paging.DEDUP_KEY_CHARS)
    payload: PagerDutyPayload | None = None


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=100)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=100)
    fingerprint: str = Field(min_length=1, max_length=200)


class AlertmanagerWebhook(Input):
    """Alertmanager's webhook (version 4): a group of alerts; the key is the bearer token."""

    model_config = ConfigDict(extra="allow")

    version: str = Field(max_length=10)
    status: Literal["firing", "resolved"]
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=1000)


@dataclass(frozen=True)
class Handled:
    dedup_key: str
    page_id: int | None
    action: str


async def add_source(
    session: AsyncSession, *, key: str, kind: str, service: str | None, actor: str
) -> str:
    """Register a source; returns its integration key (shown this once)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(24)
    if await session.scalar(select(AlertSource.id).where(AlertSource.key == key)) is not None:
        raise Conflict(f"an alert source {key!r} exists already")
    session.add(
        AlertSource(
            key=key, kind=kind, key_hash=secret_hash(secret), service=service, created_by=actor
        )
    )
    await session.flush()
    return secret


async def authenticate(
    session: AsyncSession, *, secret: str, kind: str, now: datetime, settings: Settings
) -> AlertSource:
    """The source of this integration key (401 for any other), one more event counted in
    its minute (429 past the limit)."""
    source = await session.scalar(
        select(AlertSource).where(
            AlertSource.key_hash == secret_hash(secret), AlertSource.kind == kind
        )
    )
    if source is None:
        raise Unauthenticated("unknown integration key")
    counted = await session.execute(
        text(
            """
            UPDATE alert_sources SET
                window_start = CASE WHEN window_start IS NULL
                    OR window_start <= :now - interval '1 minute' THEN :now ELSE window_start END,
                window_events = CASE WHEN window_start IS NULL
                    OR window_start <= :now - interval '1 minute' THEN 1 ELSE window_events + 1 END
            WHERE id = :id RETURNING window_start, window_events
            """
        ),
        {"id": source.id, "now": now},
    )
    started, events = counted.one()
    if events > settings.alert_events_per_minute:
        wait = max(1, 60 - int((now - started).total_seconds()))
        raise RateLimited(
            f"this source sent more than {settings.alert_events_per_minute} events this minute",
            retry_after=wait,
        )
    return source


async def _open(session: AsyncSession, dedup_key: str) -> Page | None:
    return await session.scalar(
        select(Page).where(Page.dedup_key == dedup_key, Page.status != "resolved")
    )


async def _trigger(
    session: AsyncSession,
    source: AlertSource,
    *,
    dedup_key: str,
    title: str,
    details: dict[str, Any],
    urgency: paging.Urgency,
    now: datetime,
    settings: Settings,
) -> Handled:
    found = await _open(session, dedup_key)
    actor = f"alert-source:{source.key}"
    if found is not None:  # the same alert again: the open page is updated, not raised again
        found.details = json.dumps(details, indent=1, default=str)[:20_000]
        return Handled(dedup_key, found.id, "updated")
    report = await intake.record_detection(
        session,
        title=title,
        description=json.dumps(details, indent=1, default=str),
        service=source.service,
        actor=actor,
    )
    raised = await paging.raise_page(
        session,
        dedup_key=dedup_key,
        title=title,
        details=json.dumps(details, indent=1, default=str),
        urgency=urgency,
        source="alert",
        services=[source.service] if source.service else [],
        actor=actor,
        now=now,
        settings=settings,
        report_id=report.id,
    )
    return Handled(dedup_key, raised.page.id, "triggered")


async def _close(
    session: AsyncSession,
    source: AlertSource,
    *,
    dedup_key: str,
    action: str,
    now: datetime,
    settings: Settings,
) -> Handled:
    found = await _open(session, dedup_key)
    if found is None:
        return Handled(dedup_key, None, "ignored")  # nothing open: nothing to do
    actor = f"alert-source:{source.key}"
    if action == "acknowledge":
        await paging.acknowledge(
            session, page_id=found.id, actor=actor, now=now, settings=settings, via="alert"
        )
        return Handled(dedup_key, found.id, "acknowledged")
    await paging.resolve(session, page_id=found.id, actor=actor, now=now, settings=settings)
    return Handled(dedup_key, found.id, "resolved")


async def pagerduty(
    session: AsyncSession,
    source: AlertSource,
    event: PagerDutyEvent,
    *,
    now: datetime,
    settings: Settings,
) -> Handled:
    dedup_key = event.dedup_key or f"{source.key}:{secrets.token_hex(8)}"
    if event.event_action != "trigger":
        if event.dedup_key is None:
            raise Invalid(f"dedup_key: an {event.event_action} names the alert it is about")
        return await _close(
            session,
            source,
            dedup_key=dedup_key,
            action=event.event_action,
            now=now,
            settings=settings,
        )
    if event.payload is None:
        raise Invalid("payload: a trigger needs its payload (summary, source, severity)")
    return await _trigger(
        session,
        source,
        dedup_key=dedup_key,
        title=event.payload.summary[:300],
        details=event.payload.model_dump(exclude_none=True),
        urgency="high" if event.payload.severity in ("critical", "error") else "low",
        now=now,
        settings=settings,
    )


async def alertmanager(
    session: AsyncSession,
    source: AlertSource,
    webhook: AlertmanagerWebhook,
    *,
    now: datetime,
    settings: Settings,
) -> list[Handled]:
    """Each alert of the group is a page of its own, keyed by its fingerprint."""
    handled = []
    for alert in webhook.alerts:
        dedup_key = f"{source.key}:{alert.fingerprint}"
        if alert.status == "resolved":
            handled.append(
                await _close(
                    session,
                    source,
                    dedup_key=dedup_key,
                    action="resolve",
                    now=now,
                    settings=settings,
                )
            )
            continue
        name = alert.labels.get("alertname", "alert")
        summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        severity = alert.labels.get("severity", "").lower()
        handled.append(
            await _trigger(
                session,
                source,
                dedup_key=dedup_key,
                title=f"{name}: {summary}"[:300] if summary else name[:300],
                details={"labels": alert.labels, "annotations": alert.annotations},
                urgency="high" if severity in ("critical", "page", "error") else "low",
                now=now,
                settings=settings,
            )
        )
    return handled
