"""How each person is told of a page: their contact rules (a channel, after how many minutes of
the step that named them, for pages of which urgency). A person with no rules is emailed at
once — the default every escalation falls back to.

A chat rule posts to the person's own Slack-compatible incoming webhook (their channel or direct
messages): the address is checked when saved as a customer's webhook is (no address inside our
network unless ``VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE``), and connected to through the same
guard when sent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from pydantic import Field, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.models import User
from vulnops.db.bounded import Input
from vulnops.errors import Invalid
from vulnops.notify.sending import webhook_connector
from vulnops.oncall.models import ContactRule
from vulnops.settings import Settings
from vulnops.tenants import webhook_url

MAX_RULES = 10
MAX_DELAY_MINUTES = 120


@dataclass(frozen=True)
class Rule:
    """One rule as the engine reads it (``id`` None: the default)."""

    id: int | None
    channel: str
    delay_minutes: int
    urgency: str
    address: str | None


DEFAULT = (Rule(None, "email", 0, "any", None),)


class RuleIn(Input):
    channel: Literal["email", "chat"]
    delay_minutes: int = Field(default=0, ge=0, le=MAX_DELAY_MINUTES)
    urgency: Literal["any", "high", "low"] = "any"
    address: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _address(self) -> RuleIn:
        if self.channel == "chat" and not self.address:
            raise ValueError("address: a chat rule needs its incoming-webhook URL")
        if self.channel == "email" and self.address:
            raise ValueError("address: an email rule goes to your account's address")
        return self


def host_of(address: str | None) -> str | None:
    """Where a webhook goes, without the secret in its path."""
    return urlsplit(address).hostname if address else None


def matching(rules: tuple[Rule, ...], urgency: str) -> list[Rule]:
    """The rules that apply to a page of ``urgency`` (pure); none of them does — rules for the
    other urgency only —: the default, so that nobody named by a step is told nothing."""
    found = [rule for rule in rules if rule.urgency in ("any", urgency)]
    return found or list(DEFAULT)


def _rule(row: ContactRule) -> Rule:
    return Rule(row.id, row.channel, row.delay_minutes, row.urgency, row.address)


async def of_users(session: AsyncSession, *, user_ids: list[int]) -> dict[int, tuple[Rule, ...]]:
    """Each person's rules (the default when they have none), in one query."""
    found: dict[int, list[Rule]] = defaultdict(list)
    for row in await session.scalars(
        select(ContactRule)
        .where(ContactRule.user_id.in_(user_ids))
        .order_by(ContactRule.delay_minutes, ContactRule.id)
    ):
        found[row.user_id].append(_rule(row))
    return {user_id: tuple(found[user_id]) or DEFAULT for user_id in user_ids}


def _overlap(rules: list[RuleIn]) -> str | None:
    """Two rules that would send the same page the same way at the same time."""
    for index, rule in enumerate(rules):
        for other in rules[index + 1 :]:
            same_time = (rule.channel, rule.delay_minutes) == (other.channel, other.delay_minutes)
            urgencies = {rule.urgency, other.urgency}
            if same_time and (rule.urgency == other.urgency or "any" in urgencies):
                return (
                    f"rules: two {rule.channel} rules after {rule.delay_minutes} minutes "
                    "for the same pages"
                )
    return None


async def replace(
    session: AsyncSession,
    *,
    user_id: int,
    rules: list[RuleIn],
    actor: str,
    allow_private: bool,
) -> tuple[Rule, ...]:
    """Replace a person's rules (an empty list: back to the default) — all or nothing. A rule
    that stays as it was keeps its row, so what it has pending (a later notification, a chat
    post being retried) still goes; a new chat webhook is checked (inside our network only when
    ``allow_private``)."""
    if len(rules) > MAX_RULES:
        raise Invalid(f"rules: at most {MAX_RULES}")
    overlap = _overlap(rules)
    if overlap:
        raise Invalid(overlap)
    # One change of a person's rules at a time.
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    rows = list(await session.scalars(select(ContactRule).where(ContactRule.user_id == user_id)))

    def same(row: ContactRule) -> tuple[str, int, str, str | None]:
        return (row.channel, row.delay_minutes, row.urgency, row.address)

    kept = {same(row): row for row in rows}
    wanted = [(r.channel, r.delay_minutes, r.urgency, r.address) for r in rules]
    for index, rule in enumerate(rules):
        if rule.address is not None and wanted[index] not in kept:
            try:
                await webhook_url.check(rule.address, allow_private=allow_private)
            except webhook_url.Unreachable as error:
                raise Invalid(f"rules.{index}.address: {error}") from None
            except OSError as error:
                raise Invalid(f"rules.{index}.address: does not resolve: {error}") from None
    gone = [row.id for key, row in kept.items() if key not in wanted]
    if gone:
        await session.execute(delete(ContactRule).where(ContactRule.id.in_(gone)))
    session.add_all(
        ContactRule(
            user_id=user_id,
            channel=channel,
            delay_minutes=delay,
            urgency=urgency,
            address=address,
        )
        for channel, delay, urgency, address in wanted
        if (channel, delay, urgency, address) not in kept
    )
    await session.flush()
    await audit.record(
        session,
        subject="oncall",
        kind="oncall.contact_rules",
        actor=actor,
        data={
            "user_id": user_id,
            "rules": [
                {"channel": r.channel, "delay_minutes": r.delay_minutes, "urgency": r.urgency}
                for r in rules
            ],
        },
    )
    return (await of_users(session, user_ids=[user_id]))[user_id]


async def post_chat(url: str, text: str, *, settings: Settings) -> int:
    """Post a Slack-compatible message to a person's webhook, through the address guard; the
    receiver's status (an error status raises, so the job is retried)."""
    webhook_url.check_literal(url, allow_private=settings.notify_webhook_allow_private)
    async with (
        aiohttp.ClientSession(
            connector=webhook_connector(settings),
            timeout=aiohttp.ClientTimeout(total=settings.notify_webhook_timeout_seconds),
            trust_env=False,
        ) as client,
        client.post(url, json={"text": text}, allow_redirects=False) as response,
    ):
        if response.status >= HTTPStatus.BAD_REQUEST:
            # Not aiohttp's error: it names the whole URL, whose path is the webhook's secret,
            # and the job's log would keep it.
            raise ChatRefused(f"the chat webhook at {host_of(url)} answered {response.status}")
        return response.status


class ChatRefused(Exception):
    """A person's chat webhook refused a message (the job retries it)."""
