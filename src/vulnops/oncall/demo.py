"""The demo's on-call (``demo.yaml``): a follow-the-sun schedule over three time zones, with its
regional responders, and the default escalation policy — imported the way an operator would —
then what people do with it: the demo responder takes tomorrow evening's backstop hours (an
override on the calendar) and has a reminder rule (email again after ten minutes for high
urgency)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.oncall import contacts, importer, overrides

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

DATA = Path(__file__).with_name("demo.yaml")
RESPONDERS = (
    ("kai.sydney@vulnops.example", "Kai (Sydney)"),
    ("mia.sydney@vulnops.example", "Mia (Sydney)"),
    ("lea.paris@vulnops.example", "Léa (Paris)"),
    ("hugo.paris@vulnops.example", "Hugo (Paris)"),
    ("sam.newyork@vulnops.example", "Sam (New York)"),
    ("ana.newyork@vulnops.example", "Ana (New York)"),
)


async def seed_oncall(session: AsyncSession, context: DemoContext) -> None:
    for email, name in RESPONDERS:
        await users.create_user(
            session,
            email=email,
            password=secrets.token_urlsafe(12),
            role=Role.RESPONDER,
            display_name=name,
            tenant_key=None,
            actor="demo",
        )
    await importer.import_document(
        session, text_=DATA.read_text(), source=str(DATA), actor="demo", now=context.now
    )
    responder = "responder@vulnops.example"
    evening = datetime.combine(context.now.date() + timedelta(days=1), time(18), tzinfo=UTC)
    await overrides.add(
        session,
        key="follow-the-sun",
        user=responder,
        start=evening,
        end=evening + timedelta(hours=4),
        actor=responder,
        now=context.now,
        why="taken",
    )
    user_id = await session.scalar(select(User.id).where(User.email == responder))
    assert user_id is not None
    await contacts.replace(
        session,
        user_id=user_id,
        rules=[
            contacts.RuleIn(channel="email"),
            contacts.RuleIn(channel="email", delay_minutes=10, urgency="high"),
        ],
        actor=responder,
        allow_private=False,
    )
