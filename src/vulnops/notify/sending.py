"""A delivery job's loop: lease a batch of one channel, send it in chunks, write each chunk's
outcomes, until nothing of that channel is due."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops import events
from vulnops.db.database import Database
from vulnops.notify import deliveries
from vulnops.notify.channels import Channel, EmailChannel, Outgoing, WebhookChannel
from vulnops.notify.events import DeliveriesDied
from vulnops.notify.retry import RetryPolicy
from vulnops.settings import Settings
from vulnops.tenants import webhook_url

# A job with nothing to take waits this long at most for a retry coming due, rather than leave
# it to the next periodic kick.
WAIT_AT_MOST = 10.0


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.notify_max_attempts,
        base_seconds=settings.notify_retry_base_seconds,
        cap_seconds=settings.notify_retry_cap_seconds,
    )


def webhook_connector(
    settings: Settings, resolver: AbstractResolver | None = None
) -> aiohttp.TCPConnector:
    """Connections for customers' webhooks: unless private addresses are allowed, every name is
    resolved by the guard, and the connection goes to the addresses it checked."""
    inner = resolver or DefaultResolver()
    return aiohttp.TCPConnector(
        limit=settings.notify_webhook_concurrency,
        resolver=inner
        if settings.notify_webhook_allow_private
        else webhook_url.GuardedResolver(inner),
    )


@asynccontextmanager
async def open_channel(
    settings: Settings, name: str, *, resolver: AbstractResolver | None = None
) -> AsyncIterator[tuple[Channel, int]]:
    """The channel and the chunk size it sends at once (``resolver``: the name resolution the
    webhook guard checks, the system's by default)."""
    if name == "webhook":
        async with aiohttp.ClientSession(
            connector=webhook_connector(settings, resolver),
            timeout=aiohttp.ClientTimeout(total=settings.notify_webhook_timeout_seconds),
            trust_env=False,
        ) as client:
            yield WebhookChannel(settings, client), settings.notify_webhook_concurrency
    elif name == "email":
        yield EmailChannel(settings), settings.notify_smtp_connections * 25
    else:
        raise ValueError(f"no channel {name!r}")


def domains(item: Outgoing) -> set[str]:
    return {address.rpartition("@")[2].lower() for address in item.addresses}


def within_quota(
    batch: Sequence[Outgoing], granted: dict[str, int]
) -> tuple[list[Outgoing], list[Outgoing]]:
    """Split ``batch`` into what the granted per-domain counts allow and the rest (pure)."""
    left = dict(granted)
    allowed, postponed = [], []
    for item in batch:
        needed = domains(item)
        if all(left.get(domain, 0) > 0 for domain in needed):
            for domain in needed:
                left[domain] -= 1
            allowed.append(item)
        else:
            postponed.append(item)
    return allowed, postponed


async def _rate_limited(
    database: Database, settings: Settings, token: str, batch: list[Outgoing]
) -> list[Outgoing]:
    now = datetime.now(UTC)
    window = now.replace(second=0, microsecond=0)
    wants = Counter(domain for item in batch for domain in domains(item))
    async with database.session() as session:
        granted = await deliveries.take_email_quota(
            session,
            wants=dict(wants),
            limit=settings.notify_email_per_domain_per_minute,
            window=window,
        )
        allowed, postponed = within_quota(batch, granted)
        await deliveries.postpone(
            session,
            token=token,
            ids=[item.delivery_id for item in postponed],
            until=window + timedelta(minutes=1),
        )
        await session.commit()
    return allowed


async def _tell_dead(
    session: AsyncSession,
    chunk: Sequence[Outgoing],
    settled: Sequence[tuple[int, str, str, float]],
    *,
    channel: str,
    settings: Settings,
) -> None:
    """Publish the deliveries that died, one event per advisory (the on-call is paged)."""
    dead = {delivery_id for delivery_id, status, _, _ in settled if status == "dead"}
    died: dict[int, list[Outgoing]] = defaultdict(list)
    for item in chunk:
        if item.delivery_id in dead:
            died[item.advisory_id].append(item)
    for advisory_id, items in sorted(died.items()):
        await events.publish(
            session,
            DeliveriesDied(
                advisory_id,
                items[0].tracking_id,
                channel,
                tuple(item.delivery_id for item in items),
            ),
            settings=settings,
        )


async def run(
    database: Database, settings: Settings, channel: str, *, rng: random.Random | None = None
) -> int:
    """Deliver what is due on ``channel``; returns how many attempts were made."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    policy = retry_policy(settings)
    attempted = 0
    async with open_channel(settings, channel) as (sender, chunk_size):
        while True:
            async with database.session() as session:
                token, batch = await deliveries.claim(
                    session,
                    channel=channel,
                    limit=settings.notify_batch_size,
                    lease_seconds=settings.notify_lease_seconds,
                )
                await session.commit()
            if not batch:
                async with database.session() as session:
                    wait = await deliveries.seconds_until_due(session, channel=channel)
                if wait is None or wait > WAIT_AT_MOST:
                    return attempted  # the periodic kick queues a job when work is due
                await asyncio.sleep(wait + 0.01)
                continue
            if channel == "email":
                batch = await _rate_limited(database, settings, token, batch)
            while batch:
                chunk, batch = batch[:chunk_size], batch[chunk_size:]
                outcomes = await sender.send(chunk)
                settled = deliveries.settle(chunk, outcomes, policy=policy, rng=rng)
                async with database.session() as session:
                    await deliveries.record(session, token=token, settled=settled)
                    await _tell_dead(session, chunk, settled, channel=channel, settings=settings)
                    held = await deliveries.renew(
                        session,
                        token=token,
                        ids=[item.delivery_id for item in batch],
                        lease_seconds=settings.notify_lease_seconds,
                    )
                    await session.commit()
                batch = [item for item in batch if item.delivery_id in held]
                attempted += len(chunk)
