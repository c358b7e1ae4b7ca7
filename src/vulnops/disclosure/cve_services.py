"""CVE Services through ``cvelib``: reserve an id, publish a record's CNA container.

cvelib is synchronous (requests); its calls run in a thread. Any error answer — and any
answer we cannot use, such as a reservation that is not JSON or names no CVE id — becomes an
:class:`~vulnops.errors.Upstream` error that quotes CVE Services, so that the caller marks
nothing as done.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from cvelib.cve_api import CveApi

from vulnops.disclosure.service import CVE_ID
from vulnops.errors import Invalid, Upstream
from vulnops.settings import Settings

T = TypeVar("T")


class CveServices:
    def __init__(self, settings: Settings) -> None:
        if not settings.cve_services_user or settings.cve_services_api_key is None:
            raise Invalid(
                "CVE Services credentials are not set: VULNOPS_CVE_SERVICES_USER and "
                "VULNOPS_CVE_SERVICES_API_KEY (or use the dry run)"
            )
        self.url = settings.cve_services_url
        self.org = settings.cna_short_name
        self.api = CveApi(
            username=settings.cve_services_user,
            org=settings.cna_short_name,
            api_key=settings.cve_services_api_key.get_secret_value(),
            url=settings.cve_services_url,
        )

    async def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(call)
        except requests.HTTPError as error:
            answer = error.response.text[:500] if error.response is not None else ""
            status = error.response.status_code if error.response is not None else "?"
            raise Upstream(f"CVE Services refused to {what}: HTTP {status} {answer}") from None
        except requests.JSONDecodeError:
            raise Upstream(f"CVE Services answered the request to {what} with no JSON") from None
        except requests.RequestException as error:
            raise Upstream(f"CVE Services could not be reached to {what}: {error}") from None

    async def reserve(self, *, year: int) -> str:
        answer: dict[str, Any] = await self._call(
            "reserve a CVE id", lambda: self.api.reserve(1, False, str(year))
        )
        try:
            cve_id = answer["cve_ids"][0]["cve_id"]
        except (KeyError, IndexError, TypeError):
            cve_id = None
        # Only an id of the CVE form is stored: anything else would reach the database as a
        # value too long for its column, or sit there as a case's "CVE".
        if not isinstance(cve_id, str) or not re.fullmatch(CVE_ID, cve_id):
            raise Upstream(f"CVE Services answered the reservation with no CVE id: {answer!r:.300}")
        return cve_id

    async def publish(self, *, cve_id: str, container: dict[str, Any]) -> None:
        await self._call(
            f"publish {cve_id}", lambda: self.api.publish(cve_id, dict(container), validate=True)
        )


def reserve_request(settings: Settings, *, year: int) -> dict[str, Any]:
    """What a reservation would send (the dry run)."""
    return {
        "method": "POST",
        "url": urljoin(settings.cve_services_url, "cve-id"),
        "params": {"cve_year": str(year), "amount": 1, "short_name": settings.cna_short_name},
    }


def publish_request(
    settings: Settings, *, cve_id: str, container: dict[str, Any]
) -> dict[str, Any]:
    """What publishing would send (the dry run)."""
    return {
        "method": "POST",
        "url": urljoin(settings.cve_services_url, f"cve/{cve_id}/cna"),
        "json": {"cnaContainer": container},
    }
