"""The deployment backends and health sources against real processes and real HTTP servers."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from receivers import Deployer, Prometheus  # type: ignore[import-not-found]

from helpers import serving
from vulnops.errors import Invalid
from vulnops.rollout import registry
from vulnops.rollout.backends.command import CommandBackend
from vulnops.rollout.backends.http import HttpBackend
from vulnops.rollout.health.prometheus import PrometheusSource
from vulnops.rollout.interfaces import Context, DeployError, HealthUnavailable, Target
from vulnops.settings import Settings

TARGET = Target(unit_id=7, service="storage", region="eu-west-1", scale_unit="su-01")
WRITER = [
    sys.executable,
    "-c",
    "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(' | '.join(sys.argv[2:]))",
]


def _context(settings: Settings, **changes: object) -> Context:
    return Context(settings=settings.model_copy(update=changes), database=None)


async def test_the_command_backend_substitutes_each_argument_without_a_shell(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "args.txt"
    backend = CommandBackend(
        _context(
            settings,
            command_deploy=[*WRITER, str(out), "{unit}", "{version}", "{key}", "{region}"],
        )
    )
    hostile = "1.0;touch PWNED$(id)"
    await backend.deploy(TARGET, hostile, key="k-1")
    assert out.read_text() == f"storage/eu-west-1/su-01 | {hostile} | k-1 | eu-west-1"
    assert not list(tmp_path.glob("PWNED*"))


async def test_a_failing_or_hanging_command_is_a_deploy_error(settings: Settings) -> None:
    failing = CommandBackend(
        _context(
            settings,
            command_deploy=[
                sys.executable,
                "-c",
                "import sys; print('no', file=sys.stderr); sys.exit(3)",
            ],
        )
    )
    with pytest.raises(DeployError, match="exit status 3: no"):
        await failing.deploy(TARGET, "2.0", key="k")
    hanging = CommandBackend(
        _context(
            settings,
            command_deploy=[sys.executable, "-c", "import time; time.sleep(30)"],
            command_timeout_seconds=0.5,
        )
    )
    started = asyncio.get_running_loop().time()
    with pytest.raises(DeployError, match="timed out"):
        await hanging.deploy(TARGET, "2.0", key="k")
    assert asyncio.get_running_loop().time() - started < 10
    missing = CommandBackend(_context(settings, command_deploy=["/no/such/tool"]))
    with pytest.raises(DeployError, match="could not run"):
        await missing.deploy(TARGET, "2.0", key="k")
    bad_template = CommandBackend(_context(settings, command_deploy=["echo", "{nope}"]))
    with pytest.raises(DeployError, match="template"):
        await bad_template.deploy(TARGET, "2.0", key="k")


async def test_the_command_backend_reads_the_version_from_its_status_command(
    settings: Settings,
) -> None:
    backend = CommandBackend(
        _context(
            settings,
            command_deploy=["true"],
            command_status=[sys.executable, "-c", "print('2026.12.1'); print('noise')"],
        )
    )
    assert await backend.current_version(TARGET) == "2026.12.1"
    assert (
        await CommandBackend(_context(settings, command_deploy=["true"])).current_version(TARGET)
        is None
    )


def test_a_backend_without_its_configuration_is_refused(settings: Settings) -> None:
    context = _context(settings)
    with pytest.raises(Invalid, match="VULNOPS_COMMAND_DEPLOY"):
        registry.backend("command", context)
    with pytest.raises(Invalid, match="VULNOPS_HTTP_DEPLOY_URL"):
        registry.backend("http", context)
    with pytest.raises(Invalid, match="VULNOPS_PROMETHEUS_URL"):
        registry.health_source("prometheus", context)
    with pytest.raises(Invalid, match="unknown deployment backend 'kubectl'; known: command"):
        registry.backend("kubectl", context)


async def test_the_http_backend_posts_then_polls_until_the_unit_runs_the_version(
    settings: Settings,
) -> None:
    deployer = Deployer(polls=2)
    with serving(deployer.app) as base:
        backend = HttpBackend(
            _context(
                settings,
                http_deploy_url=f"{base}/deployments",
                http_status_url=base + "/units/{unit_id}",
                http_token=SecretStr("s3cret"),
                http_poll_seconds=0.05,
            )
        )
        await backend.deploy(TARGET, "2026.12.1", key="rollout:1:unit:7:deploy")
        assert await backend.current_version(TARGET) == "2026.12.1"
    assert deployer.received == [
        {
            "unit": "storage/eu-west-1/su-01",
            "unit_id": 7,
            "service": "storage",
            "region": "eu-west-1",
            "scale_unit": "su-01",
            "version": "2026.12.1",
            "key": "rollout:1:unit:7:deploy",
        }
    ]
    assert deployer.headers[0]["authorization"] == "Bearer s3cret"
    assert deployer.headers[0]["idempotency-key"] == "rollout:1:unit:7:deploy"


async def test_http_failures_are_deploy_errors(settings: Settings) -> None:
    deployer = Deployer(fail_first=1, fail_version="bad")
    with serving(deployer.app) as base:
        backend = HttpBackend(
            _context(
                settings,
                http_deploy_url=f"{base}/deployments",
                http_status_url=base + "/units/{unit_id}",
                http_poll_seconds=0.05,
            )
        )
        with pytest.raises(DeployError, match="HTTP 503"):
            await backend.deploy(TARGET, "2.0", key="k")
        with pytest.raises(DeployError, match="failed: health check failed"):
            await backend.deploy(TARGET, "bad", key="k")
    gone = HttpBackend(
        _context(
            settings,
            http_deploy_url="http://127.0.0.1:9/deployments",
            http_status_url="http://127.0.0.1:9/units/{unit_id}",
        )
    )
    with pytest.raises(DeployError, match="deploy:"):
        await gone.deploy(TARGET, "2.0", key="k")


async def test_prometheus_answers_per_unit_and_an_outage_is_health_unavailable(
    settings: Settings,
) -> None:
    other = Target(unit_id=8, service="storage", region="eu-west-2", scale_unit="su-01")
    values = {
        "requests": {TARGET.name: 1200.0, other.name: 800.0},
        "errors": {TARGET.name: 6.0},
        "latency_ms": {TARGET.name: 81.5, other.name: 77.0},
    }
    prometheus = Prometheus(values)
    end = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    with serving(prometheus.app) as base:
        source = PrometheusSource(_context(settings, prometheus_url=base))
        samples = await source.observe([TARGET, other], end - timedelta(minutes=1), end)
    assert samples[7].requests == 1200 and samples[7].errors == 6 and samples[7].latency_ms == 81.5
    assert samples[8].errors == 0 and samples[8].crashes == 0
    query = next(q["query"] for q in prometheus.queries if "code" in q["query"])
    assert (
        'unit=~"storage/eu\\\\-west\\\\-1/su\\\\-01|storage/eu\\\\-west\\\\-2/su\\\\-01"' in query
    )
    assert "[60s]" in query and prometheus.queries[0]["time"] == f"{end.timestamp():.3f}"
    with serving(Prometheus(values, down=True).app) as base:
        source = PrometheusSource(_context(settings, prometheus_url=base))
        with pytest.raises(HealthUnavailable, match="503"):
            await source.observe([TARGET], end - timedelta(minutes=1), end)
    refused = PrometheusSource(_context(settings, prometheus_url="http://127.0.0.1:9"))
    with pytest.raises(HealthUnavailable):
        await refused.observe([TARGET], end - timedelta(minutes=1), end)
    assert json.dumps(values)  # the fixture itself is plain data
