"""Alerts in from detection systems, as PagerDuty Events API v2 and Alertmanager send them:
a trigger files a report and pages, a repeat updates the page, resolve resolves it; a wrong key
is a 401, a malformed event a 422 naming the field, and a source is rate-limited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from helpers import acli
from vulnops.db.database import Database
from vulnops.oncall import alerts
from vulnops.settings import Settings


async def _source(db: Database, kind: str) -> str:
    async with db.session() as session:
        secret = await alerts.add_source(
            session, key=f"{kind}-prod", kind=kind, service=None, actor="t"
        )
        await session.commit()
    return secret


def _pd(key: str, action: str = "trigger", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"routing_key": key, "event_action": action, "dedup_key": "db-7-disk"}
    if action == "trigger":
        event["payload"] = {
            "summary": "Disk 95% full on db-7",
            "source": "db-7.prod",
            "severity": "critical",
            "custom_details": {"free_bytes": 1024},
        }
    return {**event, **extra}


async def _state(db: Database) -> list[tuple[str, str, str | None]]:
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT p.status, p.urgency, r.source FROM pages p "
                "LEFT JOIN reports r ON r.id = p.report_id ORDER BY p.id"
            )
        )
    return [(status, urgency, source) for status, urgency, source in rows.all()]


async def test_a_pagerduty_event_pages_updates_and_resolves(
    client: httpx.AsyncClient, db: Database, oncall: None
) -> None:
    key = await _source(db, "pagerduty")
    url = "/api/alerts/pagerduty/v2/enqueue"
    first = await client.post(url, json=_pd(key))
    assert first.status_code == 202, first.text
    assert first.json() == {
        "status": "success",
        "message": "Event processed: triggered",
        "dedup_key": "db-7-disk",
    }
    again = await client.post(url, json=_pd(key))
    assert again.json()["message"] == "Event processed: updated"
    assert await _state(db) == [("triggered", "high", "detection")]
    async with db.session() as session:
        reports = await session.scalar(text("SELECT count(*) FROM reports"))
        description = await session.scalar(text("SELECT description FROM reports"))
    assert reports == 1 and "free_bytes" in str(description)
    resolved = await client.post(url, json=_pd(key, "resolve"))
    assert resolved.json()["message"] == "Event processed: resolved"
    assert await _state(db) == [("resolved", "high", "detection")]
    reopened = await client.post(url, json=_pd(key))  # fires again after it was resolved
    assert reopened.json()["message"] == "Event processed: triggered"
    assert [state[0] for state in await _state(db)] == ["resolved", "triggered"]


async def test_an_alertmanager_group_is_one_page_per_alert(
    client: httpx.AsyncClient, db: Database, oncall: None
) -> None:
    key = await _source(db, "alertmanager")

    def alert(fingerprint: str, status: str = "firing") -> dict[str, Any]:
        return {
            "status": status,
            "labels": {"alertname": "HighErrorRate", "severity": "critical", "job": "api"},
            "annotations": {"summary": f"5xx above 5% on {fingerprint}"},
            "startsAt": "2027-03-10T02:00:00Z",
            "fingerprint": fingerprint,
        }

    group = {"version": "4", "status": "firing", "groupKey": "{}:{}", "alerts": []}
    fired = await client.post(
        "/api/alerts/alertmanager",
        params={"key": key},
        json={**group, "alerts": [alert("a1"), alert("b2")]},
    )
    assert fired.status_code == 200, fired.text
    assert [a["action"] for a in fired.json()["alerts"]] == ["triggered", "triggered"]
    half = await client.post(
        "/api/alerts/alertmanager",
        params={"key": key},
        json={**group, "status": "resolved", "alerts": [alert("a1", "resolved")]},
    )
    assert [a["action"] for a in half.json()["alerts"]] == ["resolved"]
    assert [state[0] for state in await _state(db)] == ["resolved", "triggered"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_action": "explode"}, "event_action"),
        ({"payload": {"summary": "x", "source": "y", "severity": "catastrophic"}}, "severity"),
        ({"dedup_key": "k" * 256}, "dedup_key"),
    ],
)
async def test_a_malformed_event_is_a_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, change: dict[str, Any], field: str
) -> None:
    key = await _source(db, "pagerduty")
    response = await client.post("/api/alerts/pagerduty/v2/enqueue", json=_pd(key, **change))
    assert response.status_code == 422
    assert field in response.text
    assert await _state(db) == []


async def test_a_wrong_key_is_a_401_and_a_source_is_rate_limited(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    key = await _source(db, "pagerduty")
    url = "/api/alerts/pagerduty/v2/enqueue"
    wrong = await client.post(url, json=_pd("vi_not-the-key"))
    assert wrong.status_code == 401
    other_kind = await client.post(
        "/api/alerts/alertmanager",
        params={"key": key},
        json={
            "version": "4",
            "status": "firing",
            "alerts": [{"status": "firing", "labels": {}, "fingerprint": "f"}],
        },
    )
    assert other_kind.status_code == 401  # a PagerDuty key does not open the Alertmanager door
    limit = settings.alert_events_per_minute
    statuses = [
        (await client.post(url, json=_pd(key, dedup_key=f"k{n}"))).status_code
        for n in range(limit + 1)
    ]
    assert statuses[:limit] == [202] * limit
    assert statuses[limit] == 429


async def test_the_command_adds_a_source_and_prints_its_key_once(
    db: Database, conninfo: str, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    added = await acli("oncall", "source", "prometheus", "--kind", "alertmanager", env=env)
    assert added.exit_code == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("vi_")
    async with db.session() as session:
        stored = await session.scalar(text("SELECT key_hash FROM alert_sources"))
    assert stored != secret and len(str(stored)) == 64
    twice = await acli("oncall", "source", "prometheus", "--kind", "alertmanager", env=env)
    assert twice.exit_code == 1 and "exists already" in twice.stderr


async def test_a_trigger_without_a_dedup_key_gets_one_and_a_resolve_needs_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    key = await _source(db, "pagerduty")
    url = "/api/alerts/pagerduty/v2/enqueue"
    event = _pd(key)
    del event["dedup_key"]
    first = await client.post(url, json=event)
    assert first.status_code == 202, first.text
    assert first.json()["dedup_key"].startswith("pagerduty-prod:")
    resolve = _pd(key, "resolve")
    del resolve["dedup_key"]
    refused = await client.post(url, json=resolve)
    assert refused.status_code == 422 and "dedup_key" in refused.json()["detail"]
