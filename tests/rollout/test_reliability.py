"""The controller killed with SIGKILL at random moments, many times, during a rollout with the
``command`` backend: in the end every unit was deployed exactly once, and none was skipped."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import FixMaker
from vulnops.db.database import Database
from vulnops.fleet.models import DeploymentUnit, Service
from vulnops.rollout import service
from vulnops.rollout.models import Rollout, RolloutUnit
from vulnops.settings import Settings

DEPLOYER = Path(__file__).with_name("fake_deployer.py")
KILLS = 12
# A fast machine may finish the rollout before the last kill; fewer than this is a weak test.
MIN_KILLS = 8
# Fast gates in real time: seconds; an alpha strict enough that a good fix is not halted by
# chance (this test is about crashes, not statistics: a false halt would fail it).
POLICY = """
quick:
  canary: {bake: 2s}
  pilot: {bake: 2s}
  waves: {bake: 2s}
  wave_shares: [0.5, 1.0]
  max_parallel_units: 3
  retry_backoff: 1s
  gates: {alpha: 0.02, interval: 1s, baseline: 3s, min_requests: 100}
"""


def _worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vulnops", "worker", "--name", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _rollout(db: Database, rollout_id: int) -> Rollout:
    async with db.session() as session:
        rollout = await session.get(Rollout, rollout_id)
        assert rollout is not None
        return rollout


async def _status(db: Database, rollout_id: int) -> str:
    return (await _rollout(db, rollout_id)).status


@pytest.mark.slow
async def test_killing_the_controller_never_deploys_a_unit_twice_nor_skips_one(
    db: Database,
    conninfo: str,
    settings: Settings,
    fleet: object,
    make_fix: FixMaker,
    tmp_path: Path,
) -> None:
    (tmp_path / "policies.yaml").write_text(POLICY)
    state = tmp_path / "state"
    state.mkdir()
    deploy = [
        sys.executable,
        str(DEPLOYER),
        "deploy",
        str(state),
        "{unit_id}",
        "{version}",
        "{key}",
    ]
    status = [sys.executable, str(DEPLOYER), "status", str(state), "{unit_id}"]
    env = {
        **os.environ,
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_ROLLOUT_POLICY_FILE": str(tmp_path / "policies.yaml"),
        "VULNOPS_ROLLOUT_BACKEND": "command",
        "VULNOPS_HEALTH_SOURCE": "simulated",
        "VULNOPS_COMMAND_DEPLOY": json.dumps(deploy),
        "VULNOPS_COMMAND_STATUS": json.dumps(status),
        "VULNOPS_SIM_REQUESTS_PER_SECOND": "20000000",
        "VULNOPS_ROLLOUT_TICK_SECONDS": "1",
        "VULNOPS_WORKER_HEARTBEAT_SECONDS": "1",
        "VULNOPS_WORKER_STALLED_SECONDS": "2",
        "VULNOPS_LOG_LEVEL": "warning",
    }
    ours = settings.model_copy(
        update={
            "rollout_policy_file": tmp_path / "policies.yaml",
            "rollout_backend": "command",
            "health_source": "simulated",
            "command_deploy": deploy,
            "command_status": status,
        }
    )
    fix_id = await make_fix("2026.12.9")
    async with db.session() as session:
        rollout = await service.start(
            session,
            viewer=None,
            fix_id=fix_id,
            policy_name="quick",
            actor="release@example.com",
            settings=ours,
            now=datetime.now(UTC),
        )
        await session.commit()
        rollout_id = rollout.id
    rng = random.Random(7)
    kills = 0
    deadline = time.monotonic() + 600
    worker = _worker(env, "controller-0")
    try:
        while await _status(db, rollout_id) == "running":
            assert time.monotonic() < deadline, "the rollout did not finish"
            if kills < KILLS:
                await asyncio.sleep(rng.uniform(1.5, 4.0))
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                kills += 1
                await asyncio.sleep(2.2)  # the dead worker's job counts as stalled after 2 s
                worker = _worker(env, f"controller-{kills}")
            else:
                await asyncio.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert kills >= MIN_KILLS, f"the rollout finished after only {kills} kills"
    ended = await _rollout(db, rollout_id)
    assert ended.status == "completed", ended.status_reason
    lines = [line.split() for line in (state / "deployments.log").read_text().splitlines()]
    deployed = Counter(int(unit) for unit, version, _ in lines if version == "2026.12.9")
    async with db.session() as session:
        units = set(
            await session.scalars(
                select(DeploymentUnit.id)
                .join(Service, Service.id == DeploymentUnit.service_id)
                .where(Service.key == "storage")
            )
        )
        recorded = {u.unit_id: u.status for u in await session.scalars(select(RolloutUnit))}
    assert set(deployed) == units, "every unit of the service was deployed"
    assert set(deployed.values()) == {1}, f"deployed more than once: {deployed.most_common(3)}"
    assert set(recorded.values()) == {"deployed"}
