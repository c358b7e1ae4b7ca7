"""DNS rebinding: a webhook host that resolves to a public address when it is checked and to a
loopback one when the connection is made. The delivery connection resolves through the guard,
so the address it connects to is always one that was checked."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from notify_world import Receiver

from vulnops.notify.channels import Outcome, Outgoing, WebhookChannel
from vulnops.notify.sending import webhook_connector
from vulnops.settings import Settings
from vulnops.tenants import webhook_url


class Rebinding(AbstractResolver):
    """Answers each name with the next address of ``answers`` (then the last one again)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def _item(url: str) -> Outgoing:
    return Outgoing(7, 0, 0, 1, 1, "t", False, "VO-1", "k", "K", "whsec_" + "A" * 32, (url,))


async def _send(settings: Settings, resolver: AbstractResolver, url: str) -> list[Outcome]:
    async with aiohttp.ClientSession(connector=webhook_connector(settings, resolver)) as client:
        return list(await WebhookChannel(settings, client).send([_item(url)]))


async def test_a_name_that_rebinds_to_loopback_after_the_check_is_never_connected_to(
    settings: Settings, receiver: tuple[Receiver, str]
) -> None:
    hook, base = receiver
    hook.secrets["k"] = _item("").webhook_secret
    url = f"http://rebind.test:{urlsplit(base).port}/hook"
    guarded = settings.model_copy(update={"notify_webhook_allow_private": False})
    resolver = Rebinding("93.184.215.14", "127.0.0.1")
    await webhook_url.check(url, allow_private=False, resolver=resolver)  # public: saved
    [outcome] = await _send(guarded, resolver, url)
    assert resolver.asked == ["rebind.test", "rebind.test"]
    assert outcome.delivered is False
    assert outcome.final == "undeliverable"
    assert "127.0.0.1" in outcome.error
    assert hook.requests == []


async def test_the_connection_goes_to_the_resolved_address_with_the_urls_host_name(
    settings: Settings, receiver: tuple[Receiver, str]
) -> None:
    """The same path with private addresses allowed: the connector connects to what the
    resolver answered and sends the URL's own host name."""
    hook, base = receiver
    hook.secrets["k"] = _item("").webhook_secret
    port = urlsplit(base).port
    allowed = settings.model_copy(update={"notify_webhook_allow_private": True})
    [outcome] = await _send(allowed, Rebinding("127.0.0.1"), f"http://rebind.test:{port}/hook")
    assert outcome.delivered is True
    assert [r["headers"]["host"] for r in hook.requests] == [f"rebind.test:{port}"]
