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


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
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
            f"{host} is a private or local address ({', '.join(bad)}); "
            "VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE allows it"
        )
