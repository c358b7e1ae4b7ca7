"""Is a webhook URL one we may call? (A customer's URL must not make us probe our own network.)"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING

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


async def check(url: str, *, allow_private: bool) -> None:
    """Raise :class:`Unreachable` for a malformed URL or, unless allowed, one whose host is or
    resolves to a private, loopback, link-local or reserved address. A name that does not
    resolve now raises ``OSError`` (it may resolve later: retried)."""
    parsed = parse(url)
    if allow_private:
        return
    host = parsed.host
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parsed.port or (443 if parsed.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
        found = [ipaddress.ip_address(info[4][0]) for info in infos]
    bad = sorted({str(address) for address in found if _forbidden(address)})
    if bad:
        raise Unreachable(
            f"{host} is a private, local or cloud-internal address ({', '.join(bad)}); "
            "VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE allows it"
        )
