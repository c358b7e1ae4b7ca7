"""The rollout benchmark's world (pure): fleets, releases and the policies compared.

Every policy runs the same stages (the ``standard`` plan: canary regions, one pilot region, waves
reaching 5%, 20%, 50% and 100% of the traffic, 20 units deploying at once) on the same fleet with
the same seeds; only how a stage is judged and how long it must bake differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import numpy as np

from vulnops.fleet import generator
from vulnops.rollout.plan import Plan, RegionInfo, UnitInfo, build_plan, unit_traffic
from vulnops.rollout.policy import Policy, StageRules, load_policies
from vulnops.sim import model
from vulnops.sim.baselines.argo import ArgoAnalysis
from vulnops.sim.baselines.fixed_bake import FixedBake
from vulnops.sim.baselines.kayenta import KayentaJudge
from vulnops.sim.baselines.oracle import OracleJudge
from vulnops.sim.baselines.own_history import Limits, Worst
from vulnops.sim.judging import Judge, SequentialGate
from vulnops.sim.model import Fault
from vulnops.sim.runner import Strategy
from vulnops.sim.virtual import VirtualFleet

FLEET_SEED = 7
SERVICE = "storage"
NOISY_EVERY = 97  # as in the demo's simulated fleet
REQUESTS_PER_SECOND = 1_000_000.0
CONFIG_TAG = "arch=arm64"  # present on about 5% of the units


@dataclass(frozen=True)
class Fleet:
    name: str
    units: tuple[UnitInfo, ...]
    regions: tuple[RegionInfo, ...]
    shares: dict[int, float]
    geography: dict[str, str]

    def virtual(self, seed: int) -> VirtualFleet:
        """The fleet of run ``seed``: each unit's error rate and latency, and which units are
        noisy (each with chance 1/``NOISY_EVERY``), drawn from the seed's own stream (the same
        for every policy; consecutive seeds place them independently — an ``(id + seed) % 97``
        rule barely moved them from one seed to the next)."""
        noisy = np.random.default_rng([seed, 2]).random(len(self.units)) < 1 / NOISY_EVERY
        profiles = [
            model.unit_profile(
                unit.id,
                seed=seed,
                traffic=self.shares[unit.id],
                geography=self.geography[unit.region],
                tags=unit.tags,
                noisy=bool(noisy[index]),
            )
            for index, unit in enumerate(self.units)
        ]
        streams = (np.random.default_rng([seed, 1]), np.random.default_rng([seed, 3]))
        return VirtualFleet(profiles, REQUESTS_PER_SECOND, *streams)


def _fleet(name: str, topology: dict[str, object], copies: int = 1) -> Fleet:
    regions_raw = topology["regions"]
    units_raw = topology["units"]
    assert isinstance(regions_raw, list)
    assert isinstance(units_raw, list)
    regions = tuple(
        RegionInfo(
            key=r["key"],
            pair=r.get("pair"),
            canary=bool(r.get("canary")),
            weight=float(r["traffic_weight"]),
        )
        for r in regions_raw
    )
    geography = {r["key"]: r["geography"] for r in regions_raw}
    service_units = [u for u in units_raw if u["service"] == SERVICE]
    units = tuple(
        UnitInfo(
            id=copy * len(service_units) + index,
            region=u["region"],
            scale_unit=f"{u['scale_unit']}-{copy}",
            version="current",
            traffic_share=float(u["traffic_share"]),
            tags=tuple(u["tags"]),
        )
        for copy in range(copies)
        for index, u in enumerate(service_units)
    )
    shares = unit_traffic(units, {r.key: r for r in regions})
    return Fleet(name, units, regions, shares, geography)


@cache
def fleet(name: str) -> Fleet:
    """``small`` and ``large``: the demo fleet's storage service at each scale; ``10k``: the large
    fleet's storage service with its scale units repeated to about 10,000 units."""
    if name == "10k":
        large = generator.topology(FLEET_SEED, "large")
        per_copy = sum(1 for u in large["units"] if u["service"] == SERVICE)
        return _fleet(name, large, copies=-(-10_000 // per_copy))
    return _fleet(name, generator.topology(FLEET_SEED, name))


@cache
def plan(fleet_name: str) -> Plan:
    chosen = fleet(fleet_name)
    return build_plan(
        units=chosen.units,
        regions=chosen.regions,
        policy=load_policies()["standard"],
        target_version="fix",
    )


FIXES: dict[str, Fault | None] = {
    "good": None,
    "errors x1.25": Fault(error_multiplier=1.25),
    "errors x2": Fault(error_multiplier=2.0),
    "errors x5": Fault(error_multiplier=5.0),
    "latency +20%": Fault(latency_multiplier=1.2),
    "crashes after 30m": Fault(crash_after=timedelta(minutes=30)),
    "errors x5 on 5% config": Fault(error_multiplier=5.0, only_tag=CONFIG_TAG),
}


TUNED = ("fixed bake 24h", "fixed bake 1h", "Argo-style")  # limits set on good fixes


def _baked(policy: Policy, name: str, bake: timedelta) -> Policy:
    rules = StageRules(bake=bake)
    return policy.model_copy(update={"name": name, "canary": rules, "pilot": rules, "waves": rules})


def strategies(
    fault: Fault | None,
    affected: frozenset[int],
    limits: Mapping[str, Limits] | None = None,
    worst: Worst | None = None,
) -> dict[str, Strategy]:
    """The policies compared; the oracle is told the release's true fault. The tuned policies
    use ``limits`` (infinite when not given) and note their worst ratios in ``worst``."""
    shipped = load_policies()
    standard, expedited = shipped["standard"], shipped["expedited"]
    plain = expedited.model_copy(update={"approval_required": False})
    limits = limits or {}
    seen = worst or Worst()

    def gate(policy: Policy) -> Callable[[], Judge]:
        return lambda: SequentialGate(policy.gates)

    def bake(name: str) -> Callable[[], Judge]:
        return lambda: FixedBake(limits=limits.get(name, Limits()), worst=seen)

    def argo() -> Judge:
        return ArgoAnalysis(limits=limits.get("Argo-style", Limits()), worst=seen)

    return {
        "vulnops standard": Strategy("vulnops standard", standard, gate(standard)),
        "vulnops expedited": Strategy("vulnops expedited", plain, gate(plain)),
        "fixed bake 24h": Strategy(
            "fixed bake 24h",
            _baked(standard, "fixed-24h", timedelta(hours=24)),
            bake("fixed bake 24h"),
        ),
        "fixed bake 1h": Strategy(
            "fixed bake 1h",
            _baked(standard, "fixed-1h", timedelta(hours=1)),
            bake("fixed bake 1h"),
        ),
        "Kayenta": Strategy(
            "Kayenta", _baked(standard, "kayenta", timedelta(hours=3)), KayentaJudge
        ),
        "Argo-style": Strategy("Argo-style", standard, argo),
        "oracle": Strategy(
            "oracle",
            standard,
            lambda: OracleJudge(rules=standard.gates, fault=fault, affected=affected),
        ),
    }
