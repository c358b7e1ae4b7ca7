"""The demo's deliveries arrive: the demo's advisory, sent by a real worker over real SMTP and
HTTP, lands in the inbox the server runs itself (its mail catcher and webhook receiver), and
an administrator reads it there; no address outside this machine is looked up."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select, text

from helpers import MakeUser, run_jobs_until, serving_app, sign_in
from vulnops import demo
from vulnops.auth.roles import Role
from vulnops.cli.serve import _demo_environment
from vulnops.db.database import Database
from vulnops.disclosure.demo import CNA_ORG_ID
from vulnops.inbox import service as inbox
from vulnops.inbox.models import InboxMessage
from vulnops.notify.models import Delivery
from vulnops.settings import Settings, get_settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """What ``serve --demo`` sets: the inbox on, email to its catcher, webhooks to this machine
    (the demo's seeders read the environment's settings, so it is set there too)."""
    port = _free_port()
    changes = {
        "demo_inbox": True,
        "demo_smtp_port": port,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "notify_webhook_allow_private": True,
    }
    for key, value in changes.items():
        monkeypatch.setenv(f"VULNOPS_{key.upper()}", str(value))
    monkeypatch.setenv("VULNOPS_DATABASE_URL", settings.database_url.get_secret_value())
    get_settings.cache_clear()
    yield settings.model_copy(update=changes)
    get_settings.cache_clear()


def _no_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every host name resolved; an IP literal is not a look-up."""
    looked: list[str] = []
    real = socket.getaddrinfo

    def recording(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        except OSError:
            looked.append(name)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    return looked


async def test_the_demo_advisory_is_delivered_to_the_inbox_and_read_there(
    db: Database,
    demo_settings: Settings,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await demo.seed(db)
    with serving_app(demo_settings) as base:
        async with db.session() as session:
            pointed = await inbox.point_demo_webhooks(session, base_url=base)
            await session.commit()
            webhooks = await session.scalar(
                text("SELECT count(*) FROM tenant_contacts WHERE channel = 'webhook'")
            )
        assert pointed == webhooks and pointed > 0
        looked = _no_lookups(monkeypatch)

        async def settled() -> bool:
            async with db.session() as session:
                active = await session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.status.in_(["pending", "retrying"]))
                )
            return active == 0

        await run_jobs_until(db, demo_settings, settled, within=60)
        async with db.session() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    )
                ).all()
            )
            kept = dict(
                (
                    await session.execute(
                        select(InboxMessage.channel, func.count()).group_by(InboxMessage.channel)
                    )
                ).all()
            )
        assert set(statuses) == {"delivered"}, statuses
        assert kept["webhook"] == await _count(db, "webhook")
        async with db.session() as session:
            addressed = set(
                await session.scalars(
                    text(
                        """
                        SELECT c.address FROM deliveries d
                        JOIN tenant_contacts c ON c.tenant_id = d.tenant_id
                        WHERE d.channel = 'email' AND c.channel = 'email'
                        """
                    )
                )
            )
            received = set(
                await session.scalars(
                    select(func.unnest(func.string_to_array(InboxMessage.recipient, ", "))).where(
                        InboxMessage.channel == "email"
                    )
                )
            )
        assert addressed and addressed <= received
        assert looked == [], f"looked up {sorted(set(looked))}"

        admin = await make_user(Role.ADMIN)
        async with httpx.AsyncClient(base_url=base) as client:
            await sign_in(client, admin.email)
            page = await client.get("/inbox?channel=webhook")
            assert page.status_code == 200 and "advisory.published" in page.text
            assert "Demo inbox" in (await client.get("/")).text  # in the admin's navigation
            async with db.session() as session:
                notice = await session.scalar(
                    select(InboxMessage.id).where(
                        InboxMessage.channel == "email",
                        # Contoso reads French.
                        InboxMessage.subject.like("%Avis de sécurité%pour Contoso%"),
                    )
                )
            shown = await client.get(f"/inbox/{notice}")
            # The notice says where to read the advisory, never what it is about.
            assert shown.status_code == 200 and "portail client" in shown.text
            assert "Image import could reach" not in shown.text
            assert "import d&#39;images" not in shown.text and "import d'images" not in shown.text


async def _count(db: Database, channel: str) -> int:
    async with db.session() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.channel == channel, Delivery.status == "delivered")
        )
    return int(found or 0)


async def test_with_the_inbox_off_the_receiver_is_not_there(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    refused = await client.post("/inbox/webhooks/contoso", json={"type": "advisory.published"})
    assert refused.status_code == 404
    admin = await make_user(Role.ADMIN)
    await sign_in(client, admin.email)
    page = await client.get("/inbox")
    assert page.status_code == 200 and "The demo inbox is off" in page.text
    assert 'href="/inbox"' not in (await client.get("/")).text.split("<main")[0]


async def test_only_demo_webhooks_are_pointed_at_the_inbox(db: Database) -> None:
    async with db.session() as session:
        await session.execute(
            text(
                """
                WITH t AS (INSERT INTO tenants (key, name) VALUES ('a', 'A'), ('b', 'B')
                           RETURNING id, key)
                INSERT INTO tenant_contacts (tenant_id, channel, address)
                SELECT id, 'webhook', CASE key WHEN 'a' THEN 'https://hooks.a.example/in'
                                              ELSE 'https://hooks.b.com/in' END FROM t
                """
            )
        )
        assert await inbox.point_demo_webhooks(session, base_url="http://127.0.0.1:9") == 1
        assert await inbox.point_demo_webhooks(session, base_url="http://127.0.0.1:9") == 0
        assert await inbox.point_demo_webhooks(session, base_url="http://127.0.0.1:10") == 1
        addresses = set(
            await session.scalars(text("SELECT address FROM tenant_contacts ORDER BY address"))
        )
    assert addresses == {"http://127.0.0.1:10/inbox/webhooks/a", "https://hooks.b.com/in"}


def test_serve_demo_turns_the_inbox_on_but_keeps_a_configured_mail_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ: dict[str, str] = {}
    _demo_environment(environ)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    demo_on = Settings()
    assert demo_on.demo_inbox and demo_on.notify_webhook_allow_private
    assert demo_on.second_factor_roles == []
    assert (demo_on.smtp_host, demo_on.smtp_port) == ("127.0.0.1", demo_on.demo_smtp_port)
    # Found: the demo's own CVE case did not export ("VULNOPS_CNA_ORG_ID is not set").
    assert (demo_on.cna_org_id, demo_on.cna_short_name) == (CNA_ORG_ID, "vulnops-demo")

    configured = {"VULNOPS_SMTP_HOST": "mail.internal", "VULNOPS_SMTP_PORT": "587"}
    _demo_environment(configured)
    assert configured["VULNOPS_SMTP_HOST"] == "mail.internal"
    assert configured["VULNOPS_SMTP_PORT"] == "587"
    assert configured["VULNOPS_DEMO_INBOX"] == "true"
