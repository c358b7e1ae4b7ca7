"""Is a webhook URL one we may call? (A customer's URL must not make us probe our own network.)

Webhook URLs are the only outbound URLs a user sets (the rollout backends and health sources
are the operator's settings, meant to point inside). Two checks: :func:`check` when a URL is
saved and before each delivery (the URL's form, a literal address, and a friendly early answer
for a name that resolves inside), and :class:`GuardedResolver`, the resolver of the delivery
connections, which checks the very addresses the connection then uses: a name cannot resolve to
a public address for the check and to a private one for the connection (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

if TYPE_CHECKING:
    import httpx


class Unreachable(Exception):
    """The URL can never be delivered to (a different URL is needed)."""


# Addresses that are globally routable by the registry's tables yet answer inside a cloud: the
# metadata and DNS endpoints of the large providers (Alibaba's 100.100.100.200 is shared address
# space already; Azure's wire server 168.63.129.16 is a public address).
CLOUD_INTERNAL = frozenset(
    ipaddress.ip_address(a) for a in ("168.63.129.16", "100.100.100.200", "fd00:ec2::254")
)
# IETF protocol assignments (RFC 6890; Oracle Cloud's metadata is 192.0.0.192): not global in
# the registry, but Python before 3.12.4 calls most of it global.
PROTOCOL_ASSIGNMENTS = ipaddress.ip_network("192.0.0.0/24")


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything not globally routable (private, loopback, link-local, shared address space
    100.64.0.0/10, IETF protocol assignments 192.0.0.0/24, documentation, reserved…), and the
    clouds' own internal endpoints. An IPv4-mapped IPv6 address is judged as its IPv4 one."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    judged = mapped or address
    return (
        not judged.is_global
        or judged.is_multicast
        or judged in CLOUD_INTERNAL
        or judged in PROTOCOL_ASSIGNMENTS
    )


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` and refuses an answer holding any forbidden address, so the
    connector (which connects to what its resolver answers, with the URL's host name for the
    Host header and TLS) never reaches inside. The refusal is :class:`Unreachable`, which
    aiohttp passes through unchanged."""

    def __init__(self, inner: AbstractResolver) -> None:
        self.inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        bad = sorted({a["host"] for a in answers if _forbidden(ipaddress.ip_address(a["host"]))})
        if bad:
            raise Unreachable(_refusal(host, bad))
        return answers

    async def close(self) -> None:
        await self.inner.close()


def _refusal(host: str, bad: list[str]) -> str:
    return (
        f"{host} is a private, local or cloud-internal address ({', '.join(bad)}); "
        "VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE allows it"
    )


def parse(url: str) -> httpx.URL:
    """The URL if it is an absolute http(s) URL with a host, or :class:`Unreachable`."""
    import httpx  # noqa: PLC0415 - only a webhook's owner needs it, not every reader of tenants

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise Unreachable(f"{url!r} is not a URL: {error}") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise Unreachable(f"{url!r} is not an absolute http(s) URL")
    return parsed


def check_literal(url: str, *, allow_private: bool) -> httpx.URL:
    """The parsed URL, or :class:`Unreachable` for a malformed one or, unless allowed, one whose
    host is a forbidden literal address (a name is left to :class:`GuardedResolver`)."""
    parsed = parse(url)
    if allow_private:
        return parsed
    try:
        literal = ipaddress.ip_address(parsed.host)
    except ValueError:
        return parsed
    if _forbidden(literal):
        raise Unreachable(_refusal(parsed.host, [str(literal)]))
    return parsed


async def check(url: str, *, allow_private: bool, resolver: AbstractResolver | None = None) -> None:
    """:func:`check_literal`, and the name resolved by the guard (``resolver``: the system's by
    default). A name that does not resolve now raises ``OSError`` (it may resolve later)."""
    parsed = check_literal(url, allow_private=allow_private)
    if allow_private:
        return
    try:
        ipaddress.ip_address(parsed.host)
    except ValueError:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        guard = GuardedResolver(resolver or DefaultResolver())
        await guard.resolve(parsed.host, port, socket.AF_UNSPEC)
