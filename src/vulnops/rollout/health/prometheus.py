"""The ``prometheus`` health source: one PromQL instant query per metric over the HTTP API
(``/api/v1/query`` at the window's end), each grouped by the unit label.

The queries are configuration (``prometheus_queries``) with ``$units`` (a regular expression
matching the units' names, escaped), ``$service`` and ``$window`` (the window's length, e.g.
``60s``) substituted. ``requests`` is required for a unit to count; ``errors`` and ``crashes``
missing for a unit are zero (a counter that never moved is often absent); ``latency_ms``
missing is unknown. Any failure to get an answer — refused connection, 5xx, a query error — is
HealthUnavailable: the gate holds, it never passes on missing data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from string import Template

import httpx

from vulnops.errors import Invalid
from vulnops.rollout.interfaces import Context, HealthUnavailable, Target
from vulnops.rollout.samples import UnitSample

METRICS = ("requests", "errors", "crashes", "latency_ms")
TIMEOUT = 10.0


def _promql_regex(name: str) -> str:
    """``name`` matched literally by a regular expression inside a PromQL string literal,
    whose own escapes need the backslashes doubled."""
    return re.escape(name).replace("\\", "\\\\").replace('"', '\\"')


class PrometheusSource:
    def __init__(self, context: Context) -> None:
        settings = context.settings
        if not settings.prometheus_url:
            raise Invalid("the prometheus health source needs VULNOPS_PROMETHEUS_URL")
        missing = [m for m in ("requests", "errors") if m not in settings.prometheus_queries]
        if missing:
            raise Invalid(f"prometheus_queries has no query for {', '.join(missing)}")
        self.url = settings.prometheus_url.rstrip("/") + "/api/v1/query"
        self.queries = {k: v for k, v in settings.prometheus_queries.items() if k in METRICS}
        self.label = settings.prometheus_unit_label

    async def _query(
        self, client: httpx.AsyncClient, promql: str, at: datetime
    ) -> dict[str, float]:
        try:
            response = await client.post(
                self.url, data={"query": promql, "time": f"{at.timestamp():.3f}"}
            )
        except httpx.HTTPError as error:
            raise HealthUnavailable(f"prometheus: {error!r}") from None
        try:
            body = response.json()
        except ValueError:
            raise HealthUnavailable(f"prometheus: HTTP {response.status_code}, not JSON") from None
        if response.status_code >= 400 or body.get("status") != "success":
            raise HealthUnavailable(
                f"prometheus: HTTP {response.status_code}: {body.get('error', '')}"
            )
        values: dict[str, float] = {}
        for item in body.get("data", {}).get("result", []):
            name = item.get("metric", {}).get(self.label)
            try:
                value = float(item["value"][1])
            except (KeyError, IndexError, TypeError, ValueError):
                continue
            if name is not None and math.isfinite(value):
                values[name] = value
        return values

    async def observe(
        self, targets: Sequence[Target], start: datetime, end: datetime
    ) -> Mapping[int, UnitSample]:
        if not targets:
            return {}
        fill = {
            "units": "|".join(_promql_regex(t.name) for t in targets),
            "service": targets[0].service,
            "window": f"{max(int((end - start).total_seconds()), 1)}s",
        }
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            results = {
                metric: await self._query(client, Template(query).safe_substitute(fill), end)
                for metric, query in self.queries.items()
            }
        samples: dict[int, UnitSample] = {}
        for target in targets:
            requests = results["requests"].get(target.name)
            if requests is None:
                continue
            samples[target.unit_id] = UnitSample(
                requests=requests,
                errors=results["errors"].get(target.name, 0.0),
                crashes=results.get("crashes", {}).get(target.name, 0.0),
                latency_ms=results.get("latency_ms", {}).get(target.name),
            )
        return samples


def factory(context: Context) -> PrometheusSource:
    return PrometheusSource(context)
