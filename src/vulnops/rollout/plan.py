"""The rollout plan (pure): which units go in which stage, in which order.

Stages: the canary regions first; then one pilot region (the one with least traffic); then waves
whose traffic grows — each wave but the last carries at least the traffic of the one before and
reaches the policy's next cumulative share. The two regions of a pair never share a stage, and
the second of a pair comes in a later stage than the first, so that it waits for the first one's
gate. Units already running the target version are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vulnops.errors import Conflict, Invalid
from vulnops.rollout.policy import Policy


class StageKind(StrEnum):
    CANARY = "canary"
    PILOT = "pilot"
    WAVE = "wave"


@dataclass(frozen=True)
class RegionInfo:
    key: str
    pair: str | None = None
    canary: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class UnitInfo:
    id: int
    region: str
    scale_unit: str
    version: str
    traffic_share: float = 1.0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    index: int
    kind: StageKind
    regions: tuple[str, ...]
    unit_ids: tuple[int, ...]
    traffic: float  # share of the service's traffic


@dataclass(frozen=True)
class Plan:
    target_version: str
    stages: tuple[Stage, ...]
    already_on_target: tuple[int, ...]

    def stage_of(self) -> dict[int, int]:
        return {unit: stage.index for stage in self.stages for unit in stage.unit_ids}


def unit_traffic(units: Sequence[UnitInfo], regions: dict[str, RegionInfo]) -> dict[int, float]:
    """Each unit's share of the service's traffic: its region's weight times its share there
    (equal shares when every weight is zero)."""
    raw = {
        unit.id: (regions[unit.region].weight if unit.region in regions else 1.0)
        * unit.traffic_share
        for unit in units
    }
    total = sum(raw.values())
    if total <= 0:
        return {unit.id: 1 / len(units) for unit in units}
    return {unit_id: value / total for unit_id, value in raw.items()}


def _partner(region: str, regions: dict[str, RegionInfo]) -> str | None:
    info = regions.get(region)
    return info.pair if info else None


def _fill(
    left: dict[str, float],
    regions: dict[str, RegionInfo],
    placed: set[str],
    target: float,
    wave: Sequence[str] = (),
) -> list[str]:
    """Regions of ``left`` added to ``wave`` until it carries ``target``: first those whose
    partner already went (they are due), then the rest, smallest first; never a partner of a
    region in the wave."""
    members = list(wave)
    traffic = sum(left.get(r, 0.0) for r in members)
    due = sorted((r for r in left if _partner(r, regions) in placed), key=lambda r: (left[r], r))
    fresh = sorted(
        (r for r in left if _partner(r, regions) not in placed), key=lambda r: (left[r], r)
    )
    for region in [*due, *fresh]:
        if traffic >= target and members:
            break
        if region in members or _partner(region, regions) in members:
            continue
        members.append(region)
        traffic += left[region]
    return members


def _build_waves(
    remaining: dict[str, float],
    regions: dict[str, RegionInfo],
    placed: set[str],
    cumulative: Sequence[float],
    floor: float,
) -> list[list[str]]:
    """Waves over ``remaining`` (region -> traffic). Each reaches the next cumulative share and
    at least the traffic of the wave before. When the regions left after a wave could not make a
    wave as large, the wave takes every one of them it may, and the last wave holds the partners
    of its regions: so only the last wave may carry less than the one before."""
    total = sum(remaining.values())
    left = dict(remaining)
    waves: list[list[str]] = []
    done, previous, step = 0.0, floor, 0
    while left:
        goal = cumulative[min(step, len(cumulative) - 1)] * total
        wave = _fill(left, regions, placed, max(goal - done, previous))
        rest = {r: t for r, t in left.items() if r not in wave}
        if rest:
            after = _fill(rest, regions, placed | set(wave), float("inf"))
            if sum(rest[r] for r in after) < sum(left[r] for r in wave):
                wave = _fill(left, regions, placed, float("inf"), wave)
        traffic = sum(left[r] for r in wave)
        for region in wave:
            del left[region]
        placed.update(wave)
        waves.append(wave)
        done, previous, step = done + traffic, traffic, step + 1
    return waves


def _add_idle(
    waves: list[list[str]], idle: Sequence[str], regions: dict[str, RegionInfo], pilot: str
) -> list[list[str]]:
    """Regions that serve no traffic join the earliest wave their pair allows (after their
    partner, never with it); they add no traffic, so the waves still grow."""
    waves = [list(wave) for wave in waves]
    for region in idle:
        partner = _partner(region, regions)
        stage_of = {r: i for i, wave in enumerate(waves) for r in wave}
        earliest = stage_of[partner] + 1 if partner in stage_of else 0
        if partner == pilot:
            earliest = 0
        for index in range(earliest, len(waves) + 1):
            if index == len(waves):
                waves.append([])
            if partner not in waves[index]:
                waves[index].append(region)
                break
    return waves


def build_plan(
    *,
    units: Sequence[UnitInfo],
    regions: Iterable[RegionInfo],
    policy: Policy,
    target_version: str,
) -> Plan:
    if not units:
        raise Invalid("the service has no deployment units to roll out to")
    by_key = {region.key: region for region in regions}
    pending = [unit for unit in units if unit.version != target_version]
    if not pending:
        raise Conflict(f"every unit of the service already runs {target_version}")
    share = unit_traffic(units, by_key)
    units_in: dict[str, list[UnitInfo]] = defaultdict(list)
    for unit in pending:
        units_in[unit.region].append(unit)
    traffic = {region: sum(share[u.id] for u in members) for region, members in units_in.items()}

    def is_canary(region: str) -> bool:
        return region in by_key and by_key[region].canary

    groups: list[tuple[StageKind, list[str]]] = []
    placed: set[str] = set()
    canaries = {r: t for r, t in traffic.items() if is_canary(r)}
    if canaries:
        # Usually one stage; a canary paired with another canary waits for it.
        for wave in _build_waves(canaries, by_key, placed, [1.0], 0.0):
            groups.append((StageKind.CANARY, wave))
    others = {r: t for r, t in traffic.items() if not is_canary(r)}
    if others:
        # The pilot: the region with least traffic (a region never pairs with a later canary).
        pilot = min(others, key=lambda r: (others[r] <= 0, others[r], r))
        groups.append((StageKind.PILOT, [pilot]))
        placed.add(pilot)
        rest = {r: t for r, t in others.items() if r != pilot and t > 0}
        waves = _build_waves(rest, by_key, placed, policy.wave_shares, others[pilot])
        idle = sorted(r for r, t in others.items() if r != pilot and t <= 0)
        waves = _add_idle(waves, idle, by_key, pilot)
        groups += [(StageKind.WAVE, wave) for wave in waves]
    stages = tuple(
        Stage(
            index=index,
            kind=kind,
            regions=tuple(sorted(members)),
            unit_ids=tuple(
                unit.id
                for region in sorted(members)
                for unit in sorted(units_in[region], key=lambda u: (u.scale_unit, u.id))
            ),
            traffic=sum(traffic[r] for r in members),
        )
        for index, (kind, members) in enumerate(groups)
    )
    return Plan(
        target_version=target_version,
        stages=stages,
        already_on_target=tuple(sorted(u.id for u in units if u.version == target_version)),
    )
