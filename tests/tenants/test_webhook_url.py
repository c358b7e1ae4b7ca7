"""A customer's webhook URL may not point inside: every address that is not globally routable,
and the clouds' internal endpoints, are refused (the probe found four that passed)."""

from __future__ import annotations

import pytest

from vulnops.tenants.webhook_url import Unreachable, check


@pytest.mark.parametrize(
    "host",
    [
        "100.100.100.200",  # Alibaba Cloud metadata (shared address space)
        "100.64.0.1",  # shared address space (RFC 6598)
        "192.0.0.192",  # IETF protocol assignments
        "168.63.129.16",  # Azure's wire server: public, yet inside every Azure network
        "169.254.169.254",  # the metadata address of most clouds (link-local)
        "127.0.0.1",
        "10.1.2.3",
        "198.18.0.1",  # benchmarking
        "203.0.113.9",  # documentation
        "[::1]",
        "[::ffff:127.0.0.1]",  # loopback, IPv4-mapped
        "[fd00:ec2::254]",  # AWS metadata over IPv6
        "224.0.0.1",  # multicast
    ],
)
async def test_an_address_that_is_not_global_is_refused(host: str) -> None:
    with pytest.raises(Unreachable, match="private, local or cloud-internal address"):
        await check(f"https://{host}/hook", allow_private=False)


async def test_a_global_address_passes_and_private_ones_pass_when_allowed() -> None:
    await check("https://93.184.215.14/hook", allow_private=False)
    await check("http://100.64.0.1/hook", allow_private=True)
