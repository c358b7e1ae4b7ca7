"""The rollout plan, over random fleets (hypothesis): every unit in exactly one stage, canaries
first, one pilot region, the two regions of a pair never together, traffic that grows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulnops.errors import Conflict, Invalid
from vulnops.rollout.plan import Plan, RegionInfo, StageKind, UnitInfo, build_plan, unit_traffic
from vulnops.rollout.policy import Policy, load_policies

POLICIES = load_policies()
TARGET = "2.0"


@dataclass(frozen=True)
class Fleet:
    regions: list[RegionInfo]
    units: list[UnitInfo]


@st.composite
def fleets(draw: st.DrawFn) -> Fleet:
    regions: list[RegionInfo] = []
    weight = st.one_of(st.just(0.0), st.floats(0.05, 3.0))
    for index in range(draw(st.integers(0, 8))):
        a, b = f"pair{index}-a", f"pair{index}-b"
        regions += [RegionInfo(a, b, False, draw(weight)), RegionInfo(b, a, False, draw(weight))]
    for index in range(draw(st.integers(0, 3))):
        regions.append(RegionInfo(f"single{index}", None, False, draw(weight)))
    canaries = draw(st.integers(0, 3))
    if canaries == 3:  # two canaries paired with each other, and one alone
        regions += [
            RegionInfo("canary-a", "canary-b", True, 0.1),
            RegionInfo("canary-b", "canary-a", True, 0.1),
            RegionInfo("canary-c", None, True, 0.1),
        ]
    else:
        regions += [RegionInfo(f"canary{i}", None, True, 0.1) for i in range(canaries)]
    units: list[UnitInfo] = []
    for region in regions:
        for scale_unit in range(draw(st.integers(0, 4))):
            units.append(
                UnitInfo(
                    id=len(units) + 1,
                    region=region.key,
                    scale_unit=f"su-{scale_unit}",
                    version=draw(st.sampled_from(["1.0", "1.0", "1.0", TARGET])),
                    traffic_share=draw(st.floats(0.01, 1.0)),
                )
            )
    return Fleet(regions, units)


def _plan(fleet: Fleet, policy: Policy) -> Plan | None:
    try:
        return build_plan(
            units=fleet.units, regions=fleet.regions, policy=policy, target_version=TARGET
        )
    except Invalid:
        assert not fleet.units
        return None
    except Conflict:
        assert all(u.version == TARGET for u in fleet.units)
        return None


@settings(max_examples=400, deadline=None)
@given(fleet=fleets(), policy_name=st.sampled_from(sorted(POLICIES)))
def test_plans_keep_every_rule(fleet: Fleet, policy_name: str) -> None:
    plan = _plan(fleet, POLICIES[policy_name])
    if plan is None:
        return
    regions = {r.key: r for r in fleet.regions}
    pending = {u.id for u in fleet.units if u.version != TARGET}
    placed = [unit for stage in plan.stages for unit in stage.unit_ids]
    # Every unit that needs the fix is in exactly one stage; the others are left out.
    assert sorted(placed) == sorted(pending)
    assert set(plan.already_on_target) == {u.id for u in fleet.units if u.version == TARGET}
    assert all(stage.unit_ids for stage in plan.stages)
    region_of = {u.id: u.region for u in fleet.units}
    stage_of_region = {}
    for stage in plan.stages:
        for unit in stage.unit_ids:
            assert stage_of_region.setdefault(region_of[unit], stage.index) == stage.index
    kinds = [stage.kind for stage in plan.stages]
    # Canaries first: every canary unit, and nothing else, in the leading canary stages.
    canary_units = {u for u in pending if regions[region_of[u]].canary}
    leading = [s for s in plan.stages if s.kind is StageKind.CANARY]
    assert kinds[: len(leading)] == [StageKind.CANARY] * len(leading)
    assert {u for s in leading for u in s.unit_ids} == canary_units
    # One pilot region, right after the canaries, when anything else needs the fix.
    if pending - canary_units:
        pilots = [s for s in plan.stages if s.kind is StageKind.PILOT]
        assert len(pilots) == 1 and len(pilots[0].regions) == 1
        assert pilots[0].index == len(leading)
    else:
        assert StageKind.PILOT not in kinds
    # The two regions of a pair are never in the same stage.
    for region in fleet.regions:
        if region.pair and region.key in stage_of_region and region.pair in stage_of_region:
            assert stage_of_region[region.key] != stage_of_region[region.pair]
    # Traffic grows: each wave but the last carries at least the traffic of the stage before it
    # (the first wave at least the pilot's) — unless no traffic is left at all (regions with no
    # weight) — and the shares add up to what still needed the fix.
    body = [s for s in plan.stages if s.kind is not StageKind.CANARY]
    for position in range(1, len(body) - 1):
        before, after = body[position - 1], body[position]
        if sum(s.traffic for s in body[position:]) > 0:
            assert after.traffic >= before.traffic - 1e-9
    total = sum(s.traffic for s in plan.stages)
    assert total == pytest.approx(
        sum(share for unit, share in _traffic(fleet).items() if unit in pending),
        abs=1e-9,
    )


def _traffic(fleet: Fleet) -> dict[int, float]:
    return unit_traffic(fleet.units, {r.key: r for r in fleet.regions})


def test_the_pilot_is_the_region_with_least_traffic_and_its_pair_comes_later() -> None:
    regions = [
        RegionInfo("canary", None, True, 0.1),
        RegionInfo("eu-1", "eu-2", False, 1.0),
        RegionInfo("eu-2", "eu-1", False, 1.0),
        RegionInfo("us-1", "us-2", False, 0.3),
        RegionInfo("us-2", "us-1", False, 2.0),
    ]
    units = [UnitInfo(i, r.key, "su-1", "1.0") for i, r in enumerate(regions, start=1)]
    plan = build_plan(
        units=units, regions=regions, policy=POLICIES["standard"], target_version=TARGET
    )
    assert [s.kind for s in plan.stages][:2] == [StageKind.CANARY, StageKind.PILOT]
    assert plan.stages[1].regions == ("us-1",)
    later = [s.index for s in plan.stages if "us-2" in s.regions]
    assert later and later[0] > 1


def test_no_units_is_invalid_and_a_fleet_already_on_target_is_a_conflict() -> None:
    regions = [RegionInfo("eu-1")]
    with pytest.raises(Invalid, match="no deployment units"):
        build_plan(units=[], regions=regions, policy=POLICIES["standard"], target_version="2")
    with pytest.raises(Conflict, match="already runs 2"):
        build_plan(
            units=[UnitInfo(1, "eu-1", "su", "2")],
            regions=regions,
            policy=POLICIES["standard"],
            target_version="2",
        )
