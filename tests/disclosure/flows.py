"""The disclosure steps the tests walk again and again, through the services as each domain
does them: an approved public text, a disclosure asked for and approved (two people each)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from notify.notify_world import draft
from vulnops.cases import milestones
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.disclosure import disclosing, public_text
from vulnops.disclosure.schemas import PublicTextIn
from vulnops.settings import Settings
from vulnops.web.app import create_app

TEXT = {
    "title": "Bucket metadata could be read across tenants",
    "description": "A crafted request could list another tenant's bucket names.",
    "impact": "Bucket names of other tenants could be read.",
}


async def mitigate(db: Database, settings: Settings, case_id: int) -> None:
    """What the rollout records when the fix has reached every unit."""
    async with db.session() as session:
        await milestones.record(
            session,
            case_id=case_id,
            milestones=[Milestone.MITIGATED],
            at=datetime.now(UTC),
            actor="system",
            source="rollout:1",
            settings=settings,
        )
        await session.commit()


async def approve_text(db: Database, settings: Settings, case_id: int, **fields: Any) -> None:
    """Written by one person, approved by another."""
    async with db.session() as session:
        await public_text.save_draft(
            session,
            case_id=case_id,
            text=PublicTextIn.model_validate({**TEXT, **fields}),
            actor="writer@example.com",
        )
        await public_text.decide(
            session,
            case_id=case_id,
            actor="approver@example.com",
            approve=True,
            comment=None,
            settings=settings,
            now=datetime.now(UTC),
        )
        await session.commit()


async def disclose(
    db: Database,
    settings: Settings,
    case_id: int,
    *,
    public_from: datetime | None = None,
    override_reason: str | None = None,
    cve_choice: Any = None,
    without_cve_reason: str | None = None,
) -> None:
    """Asked for by one person (an administrator when it overrides), approved by another."""
    now = datetime.now(UTC)
    async with db.session() as session:
        await disclosing.request_disclosure(
            session,
            case_id=case_id,
            actor="asker@example.com",
            is_admin=override_reason is not None,
            settings=settings,
            now=now,
            public_from=public_from,
            cve_choice=cve_choice,
            without_cve_reason=without_cve_reason,
            override_reason=override_reason,
        )
        await disclosing.decide_disclosure(
            session,
            case_id=case_id,
            actor="approver@example.com",
            approve=True,
            comment=None,
            settings=settings,
            now=now,
        )
        await session.commit()


def api_client(db: Database, settings: Settings) -> httpx.AsyncClient:
    """An API client of the app on ``db`` (in process)."""
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def notify_customers(
    client: httpx.AsyncClient, writer: dict[str, str], approver: dict[str, str], case_id: int
) -> None:
    """Draft, approve and send an advisory customers must act on."""
    url = f"/api/cases/{case_id}/advisory"
    await client.put(url, json=draft(action_required=True, action_steps="Rotate."), headers=writer)
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200
    assert (await client.post(f"{url}/send", headers=writer)).status_code == 200
