"""The demo's on-call (``demo.yaml``): a follow-the-sun schedule over three time zones, with its
regional responders, and the default escalation policy — imported the way an operator would."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.oncall import importer

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
