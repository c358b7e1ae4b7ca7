"""Deliveries against real parts: an aiosmtpd server, a webhook receiver that verifies the
Standard Webhooks signature, retries, dead deliveries, rate limits and reminders."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_world import Receiver, World, draft
from sqlalchemy import text

from helpers import SmtpSink, run_jobs_until
from vulnops.db.database import Database
from vulnops.notify import deliveries, delivery_admin, portal, service, translations
from vulnops.notify.schemas import DraftIn, TranslationIn
from vulnops.settings import Settings


@pytest.fixture
def notify_settings(mail_settings: Settings) -> Settings:
    return mail_settings.model_copy(
        update={
            "notify_webhook_allow_private": True,
            "notify_retry_base_seconds": 0.2,
            "notify_retry_cap_seconds": 0.5,
            "notify_max_attempts": 4,
            "public_url": "https://vulnops.example",
        }
    )


async def _send(
    db: Database,
    settings: Settings,
    world: World,
    *,
    french: TranslationIn | None = None,
    **changes: Any,
) -> None:
    """Draft, approve and send (with ``french``, approved, when given)."""
    async with db.session() as session:
        now = datetime.now(UTC)
        await service.save_draft(
            session,
            case_id=world.case_id,
            draft=DraftIn.model_validate(draft(**changes)),
            actor="writer@x",
            settings=settings,
        )
        await service.decide(
            session,
            case_id=world.case_id,
            actor="comms@x",
            approve=True,
            comment=None,
            settings=settings,
            now=now,
        )
        if french is not None:
            await translations.save(
                session,
                case_id=world.case_id,
                language="fr",
                draft=french,
                actor="writer@x",
                settings=settings,
            )
            await translations.decide(
                session,
                case_id=world.case_id,
                language="fr",
                actor="comms@x",
                approve=True,
                comment=None,
                settings=settings,
                now=now,
            )
        await service.send(
            session, case_id=world.case_id, actor="comms@x", settings=settings, now=now
        )
        await session.commit()


async def _statuses(db: Database) -> dict[tuple[str, str], tuple[str, int]]:
    """(tenant key, channel) -> (status, attempts) of the first messages."""
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT t.key, d.channel, d.status, d.attempts FROM deliveries d "
                "JOIN tenants t ON t.id = d.tenant_id WHERE d.reminder = 0"
            )
        )
        return {(key, channel): (status, attempts) for key, channel, status, attempts in rows}


async def _settled(db: Database) -> bool:
    async with db.session() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'retrying')")
        )
        return left == 0


async def _secrets(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = await session.execute(text("SELECT key, webhook_secret FROM tenants"))
        return dict(rows.all())  # type: ignore[arg-type]


async def test_email_and_signed_webhooks_reach_every_contact_once(
    db: Database,
    notify_settings: Settings,
    make_world: Any,
    receiver: tuple[Receiver, str],
    smtp_server: tuple[SmtpSink, int],
) -> None:
    hook, url = receiver
    world: World = await make_world(url)
    hook.secrets = await _secrets(db)
    await _send(db, notify_settings, world)
    await run_jobs_until(db, notify_settings, lambda: _settled(db))

    assert await _statuses(db) == {
        ("acme", "email"): ("delivered", 1),
        ("acme", "webhook"): ("delivered", 1),
        ("globex", "email"): ("delivered", 1),
        ("initech", "webhook"): ("delivered", 1),
        ("umbrella", "email"): ("undeliverable", 0),
    }
    sink = smtp_server[0]
    assert sorted(m["To"] for m in sink.messages) == [
        "ops@globex.test, sec@globex.test",
        "security@acme.test",
    ]
    for message in sink.messages:
        body = message.get_content()
        assert "[TLP:AMBER]" in message["Subject"]
        assert "https://vulnops.example/advisories/" in body
        # Confidential: the email carries no detail of the vulnerability.
        assert "bucket" not in body.lower() and "bucket" not in message["Subject"].lower()

    assert hook.bad_signatures == 0
    assert sorted(p["data"]["tenant"] for p in hook.processed.values()) == ["acme", "initech"]
    payload = next(iter(hook.processed.values()))
    assert payload["type"] == "advisory.published" and payload["data"]["tlp"] == "TLP:AMBER"
    request = hook.requests[0]["headers"]
    assert request["idempotency-key"] == request["webhook-id"]


async def test_a_receiver_failing_twice_gets_the_message_exactly_once(
    db: Database, notify_settings: Settings, make_world: Any, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    world: World = await make_world(url)
    hook.secrets = await _secrets(db)
    # Only initech's webhook and acme's: the first two answers are 500 for whoever comes first.
    hook.script = [500, 500]
    await _send(db, notify_settings.model_copy(update={"smtp_host": None}), world)
    await run_jobs_until(db, notify_settings, lambda: _settled(db))

    assert sorted(hook.accepted) == sorted(set(hook.accepted))  # each id accepted once
    assert len(hook.accepted) == 2 and len(hook.requests) == 4
    statuses = await _statuses(db)
    attempts = sorted(statuses[(key, "webhook")][1] for key in ("acme", "initech"))
    assert statuses[("acme", "webhook")][0] == statuses[("initech", "webhook")][0] == "delivered"
    assert sum(attempts) == 4
    # Every change was recorded: two failures (with the HTTP status) then the delivery.
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT e.status, e.detail FROM delivery_events e "
                "JOIN deliveries d ON d.id = e.delivery_id "
                "WHERE d.channel = 'webhook' ORDER BY e.id"
            )
        )
        events = rows.all()
    assert [status for status, _ in events].count("retrying") == 2
    assert all("HTTP 500" in detail for status, detail in events if status == "retrying")
    assert [status for status, _ in events].count("delivered") == 2


async def test_a_delivery_is_dead_after_its_last_attempt_and_can_be_resent(
    db: Database, notify_settings: Settings, make_world: Any, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    world: World = await make_world(url)
    hook.secrets = await _secrets(db)
    hook.script = [503] * 8  # both webhooks fail all four attempts
    settings = notify_settings.model_copy(update={"smtp_host": None})
    await _send(db, settings, world)
    await run_jobs_until(db, settings, lambda: _settled(db))
    statuses = await _statuses(db)
    assert statuses[("acme", "webhook")] == ("dead", 4)
    async with db.session() as session:
        dead = await delivery_admin.list_deliveries(session, viewer=None, status="dead")
        assert dead.total == 2 and "gave up after 4 attempts" in dead.items[0]["last_error"]
        advisory = await service.find(session, case_id=world.case_id)
        assert advisory is not None
        # The on-call is paged once for the advisory, however many of its deliveries died.
        pages = (
            await session.execute(
                text("SELECT subject, source, case_id, details FROM pages WHERE dedup_key = :k"),
                {"k": f"deliveries:{advisory.id}"},
            )
        ).all()
        assert len(pages) == 1
        subject, source, case_id, details = pages[0]
        assert (source, case_id) == ("delivery", world.case_id)
        assert "webhook deliver" in subject and "died" in subject
        assert f"status=dead&advisory={advisory.id}" in details
        assert await delivery_admin.resend(session, actor="comms@x", advisory_id=advisory.id) == 2
        await session.commit()
    await run_jobs_until(db, settings, lambda: _settled(db))
    statuses = await _statuses(db)
    assert statuses[("acme", "webhook")] == ("delivered", 1)
    assert statuses[("initech", "webhook")] == ("delivered", 1)
    assert len(hook.accepted) == 2


async def test_a_private_webhook_address_is_undeliverable_when_forbidden(
    db: Database, notify_settings: Settings, make_world: Any, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    world: World = await make_world(url)
    settings = notify_settings.model_copy(
        update={"smtp_host": None, "notify_webhook_allow_private": False}
    )
    await _send(db, settings, world)
    await run_jobs_until(db, settings, lambda: _settled(db))
    statuses = await _statuses(db)
    assert statuses[("acme", "webhook")] == ("undeliverable", 1)
    assert hook.requests == []
    async with db.session() as session:
        found = await delivery_admin.list_deliveries(session, viewer=None, status="undeliverable")
    errors = {item["last_error"] for item in found.items if item["channel"] == "webhook"}
    assert errors == {
        "127.0.0.1 is a private, local or cloud-internal address (127.0.0.1); "
        "VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE allows it"
    }


@pytest.mark.slow  # it may wait for the next clock minute (16 s at most)
async def test_email_to_one_domain_keeps_to_its_rate_limit(
    db: Database, notify_settings: Settings, make_world: Any, smtp_server: tuple[SmtpSink, int]
) -> None:
    world: World = await make_world()
    async with db.session() as session:
        # acme gets a second address at globex.test: acme and globex now share a domain.
        await session.execute(
            text(
                "INSERT INTO tenant_contacts (tenant_id, channel, address) "
                "SELECT id, 'email', 'x@globex.test' FROM tenants WHERE key IN ('acme')"
            )
        )
        await session.commit()
    settings = notify_settings.model_copy(
        update={"notify_email_per_domain_per_minute": 1, "notify_webhook_allow_private": False}
    )
    # The limit is per clock minute: start well inside one, or the second email is due (and
    # sent) in the next minute before the first is seen.
    if (second := datetime.now(UTC).second) > 45:
        await asyncio.sleep(61 - second)
    await _send(db, settings, world)

    async def one_email_sent() -> bool:
        async with db.session() as session:
            sent = await session.scalar(
                text(
                    "SELECT count(*) FROM deliveries "
                    "WHERE channel = 'email' AND status = 'delivered'"
                )
            )
            return sent == 1

    await run_jobs_until(db, settings, one_email_sent)
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT d.status, d.attempts, d.next_attempt_at > now() AS later FROM deliveries d "
                "WHERE d.channel = 'email' AND d.status <> 'undeliverable' ORDER BY d.status"
            )
        )
        found = rows.all()
    # acme (now also at globex.test) and globex share a domain: one waits for the next minute,
    # untried (no attempt counted).
    assert sorted((status, attempts, later) for status, attempts, later in found) == [
        ("delivered", 1, False),
        ("pending", 0, True),
    ]
    assert len(smtp_server[0].messages) == 1


async def test_reminders_go_to_those_who_must_act_and_have_not_acknowledged(
    db: Database, notify_settings: Settings, make_world: Any, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    world: World = await make_world(url)
    hook.secrets = await _secrets(db)
    await _send(db, notify_settings, world, action_required=True, action_steps="Rotate keys.")
    await run_jobs_until(db, notify_settings, lambda: _settled(db))
    async with db.session() as session:
        advisory = await service.find(session, case_id=world.case_id)
        assert advisory is not None
        await portal.acknowledge(
            session, advisory_id=advisory.id, tenant_id=world.tenant_ids["acme"], actor="a@acme"
        )
        early = await deliveries.schedule_reminders(
            session, now=datetime.now(UTC), every=timedelta(hours=72), most=2
        )
        later = datetime.now(UTC) + timedelta(hours=73)
        due = await deliveries.schedule_reminders(
            session, now=later, every=timedelta(hours=72), most=2
        )
        again = await deliveries.schedule_reminders(
            session, now=later, every=timedelta(hours=72), most=2
        )
        await session.commit()
    assert early == 0
    assert due == 2  # globex's email and initech's webhook; acme acknowledged
    assert again == 0  # one reminder per interval: the new ones are not delivered yet
    await run_jobs_until(db, notify_settings, lambda: _settled(db))
    reminders = [
        json.loads(r["body"])
        for r in hook.requests
        if json.loads(r["body"])["type"] == "advisory.reminder"
    ]
    assert [r["data"]["tenant"] for r in reminders] == ["initech"]


async def test_each_tenant_is_told_in_its_language(
    db: Database,
    notify_settings: Settings,
    make_world: Any,
    receiver: tuple[Receiver, str],
    smtp_server: tuple[SmtpSink, int],
) -> None:
    """acme reads French: its email notice and webhook are in French and carry the approved
    French translation; globex and initech, who read English, get the original."""
    hook, url = receiver
    world: World = await make_world(url)
    hook.secrets = await _secrets(db)
    async with db.session() as session:
        await session.execute(text("UPDATE tenants SET language = 'fr' WHERE key = 'acme'"))
        await session.commit()
    french = TranslationIn(
        title="Les noms des compartiments pouvaient être listés",
        summary="Une requête forgée pouvait lister les compartiments d'un autre client.",
        body="{{ summary }}",
    )
    await _send(db, notify_settings, world, french=french, title="Bucket names could be listed")
    await run_jobs_until(db, notify_settings, lambda: _settled(db))

    by_address = {m["To"]: m for m in smtp_server[0].messages}
    acme, globex = by_address["security@acme.test"], by_address["ops@globex.test, sec@globex.test"]
    assert acme["Subject"].startswith("[TLP:AMBER] Avis de sécurité ")
    assert acme["Subject"].endswith(" pour Acme Corp")
    body = acme.get_content()
    assert body.startswith("Bonjour,") and "Lisez-le ici" in body
    assert "Il est dans votre langue ; l'original, en anglais" in body
    assert "Hello" not in body and "compartiments" not in body  # no detail, in any language
    assert globex["Subject"].startswith("[TLP:AMBER] Security advisory ")
    assert globex.get_content().startswith("Hello,") and "Bonjour" not in globex.get_content()

    payloads = {p["data"]["tenant"]: p["data"] for p in hook.processed.values()}
    assert payloads["acme"]["language"] == "fr" and payloads["acme"]["title"] == french.title
    assert payloads["acme"]["message"].startswith("Un avis de sécurité confidentiel")
    assert payloads["initech"]["language"] == "en"
    assert payloads["initech"]["title"] == "Bucket names could be listed"
    assert payloads["initech"]["message"].startswith("A confidential security advisory")
