"""A tenant's preferred language (a BCP 47 tag, RFC 5646) and time zone (an IANA name): what
its advisories, emails and portal pages are to be written in, and the clock their dates are
shown on. Checked with ``langcodes`` and ``zoneinfo`` (its ``tzdata``), stored normalized."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import langcodes
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.errors import Invalid
from vulnops.tenants.models import Tenant
from vulnops.tenants.service import get_tenant

_SUBTAGS = re.compile(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*")


def language_tag(value: str) -> str:
    """The tag in its normal form (``fr-ca`` → ``fr-CA``); 422 for what is not BCP 47."""
    tag = value.strip()
    # langcodes also takes ``en_US``; BCP 47 separates its subtags with hyphens only.
    if not _SUBTAGS.fullmatch(tag) or len(tag) > 35 or not langcodes.tag_is_valid(tag):
        raise Invalid(
            f"language: {tag[:40]!r} is not a BCP 47 language tag (such as en, fr or pt-BR)",
            field="language",
        )
    return langcodes.standardize_tag(tag)


def time_zone(value: str) -> str:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"time_zone: {name[:64]!r} is not a time zone name (such as Europe/Paris or UTC)",
            field="time_zone",
        ) from None
    return name


async def set_preferences(
    session: AsyncSession, *, tenant_id: int, language: str, time_zone_name: str, actor: str
) -> Tenant:
    """Both checked before either is written."""
    tag, zone = language_tag(language), time_zone(time_zone_name)
    tenant = await get_tenant(session, tenant_id=tenant_id)
    tenant.language, tenant.time_zone = tag, zone
    await session.flush()
    await audit.record(
        session,
        subject=f"tenant:{tenant.id}",
        kind="tenant.preferences_set",
        actor=actor,
        data={"language": tag, "time_zone": zone},
    )
    return tenant
