"""The ``http`` backend: POSTs a deployment to a webhook, then polls a status URL until the unit
runs the version (or the deployment failed, or ``http_timeout_seconds`` passed).

The POST carries ``{"unit", "unit_id", "service", "region", "scale_unit", "version", "key"}`` and
an ``Idempotency-Key`` header with the key (the same for every retry of one change). The status
URL answers ``{"version": "...", "state": "in_progress" | "succeeded" | "failed"}``. A 5xx,
a timeout or a refused connection is a DeployError, which the controller retries with backoff.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx

from vulnops.errors import Invalid
from vulnops.rollout.interfaces import Context, DeployError, Target

REQUEST_TIMEOUT = 30.0


class HttpBackend:
    def __init__(self, context: Context) -> None:
        settings = context.settings
        if not settings.http_deploy_url or not settings.http_status_url:
            raise Invalid(
                "the http backend needs VULNOPS_HTTP_DEPLOY_URL and VULNOPS_HTTP_STATUS_URL"
            )
        self.deploy_url = settings.http_deploy_url
        self.status_url = settings.http_status_url
        self.timeout = settings.http_timeout_seconds
        self.poll = settings.http_poll_seconds
        token = settings.http_token.get_secret_value() if settings.http_token else None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _status_url(self, target: Target) -> str:
        return self.status_url.format(
            service=quote(target.service, safe=""),
            region=quote(target.region, safe=""),
            scale_unit=quote(target.scale_unit, safe=""),
            unit_id=target.unit_id,
        )

    async def _status(self, client: httpx.AsyncClient, target: Target) -> dict[str, Any]:
        try:
            response = await client.get(self._status_url(target), headers=self.headers)
        except httpx.HTTPError as error:
            raise DeployError(f"status: {error!r}") from None
        if response.status_code >= 400:
            raise DeployError(f"status: HTTP {response.status_code}: {response.text[:500]}")
        try:
            body = response.json()
        except ValueError:
            raise DeployError(f"status: not JSON: {response.text[:200]!r}") from None
        if not isinstance(body, dict):
            raise DeployError("status: expected a JSON object")
        return body

    async def deploy(self, target: Target, version: str, *, key: str) -> None:
        payload = {
            "unit": target.name,
            "unit_id": target.unit_id,
            "service": target.service,
            "region": target.region,
            "scale_unit": target.scale_unit,
            "version": version,
            "key": key,
        }
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            try:
                response = await client.post(
                    self.deploy_url,
                    json=payload,
                    headers={**self.headers, "Idempotency-Key": key},
                )
            except httpx.HTTPError as error:
                raise DeployError(f"deploy: {error!r}") from None
            if response.status_code >= 300:
                raise DeployError(f"deploy: HTTP {response.status_code}: {response.text[:500]}")
            deadline = time.monotonic() + self.timeout
            while True:
                status = await self._status(client, target)
                if status.get("state") == "failed":
                    raise DeployError(f"the deployment failed: {status.get('message', '')}")
                if status.get("state") == "succeeded" and status.get("version") == version:
                    return
                if time.monotonic() >= deadline:
                    raise DeployError(f"not running {version} after {self.timeout:g} s")
                await asyncio.sleep(self.poll)

    async def current_version(self, target: Target) -> str | None:
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            version = (await self._status(client, target)).get("version")
        return str(version) if version else None


def factory(context: Context) -> HttpBackend:
    return HttpBackend(context)
