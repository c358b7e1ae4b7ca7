"""The topology document (services, regions with their pairs, deployment units) and its checks
(pure). A document is checked whole, against what the inventory already holds, before anything
is written: every problem is reported by where it is (``units[12]``, with the line in a YAML
file), and an import with any problem imports nothing. The document is read within the bounds
of :mod:`vulnops.parsing_limits` (its size and nesting, no YAML aliases, at most
:data:`MAX_TOPOLOGY_ITEMS` of each kind)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vulnops.errors import Invalid
from vulnops.parsing_limits import MAX_LIST_ITEMS, MAX_TOPOLOGY_ITEMS, MAX_YAML_BYTES, load_yaml

KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(pattern=KEY_PATTERN, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    owner_team: str = Field(default="", max_length=200)
    repositories: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Absolute paths of its source on the machines that run variant hunts.",
    )

    @field_validator("repositories")
    @classmethod
    def _absolute(cls, locations: list[str]) -> list[str]:
        return checked_locations(locations)


def checked_locations(locations: list[str]) -> list[str]:
    """Absolute paths, normalized, each once, in order (ValueError names the first that is
    not one)."""
    found: list[str] = []
    for location in locations:
        path = location.strip()
        if not path or not PurePosixPath(path).is_absolute() or len(path) > 1000 or "\x00" in path:
            raise ValueError(f"{location!r} is not an absolute path (at most 1,000 characters)")
        normal = str(PurePosixPath(path))
        if normal not in found:
            found.append(normal)
    return found


class RegionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(pattern=KEY_PATTERN, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    geography: str = Field(default="", max_length=100)
    pair: str | None = Field(default=None, max_length=100)
    canary: bool = False
    traffic_weight: float = Field(default=1.0, ge=0)


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service: str = Field(max_length=100)
    region: str = Field(max_length=100)
    scale_unit: str = Field(pattern=KEY_PATTERN, max_length=100)
    version: str = Field(min_length=1, max_length=100)
    traffic_share: float = Field(gt=0, le=1)
    tags: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=MAX_LIST_ITEMS
    )


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: list[ServiceIn] = Field(default_factory=list, max_length=MAX_TOPOLOGY_ITEMS)
    regions: list[RegionIn] = Field(default_factory=list, max_length=MAX_TOPOLOGY_ITEMS)
    units: list[UnitIn] = Field(default_factory=list, max_length=MAX_TOPOLOGY_ITEMS)


@dataclass(frozen=True)
class Known:
    """What the inventory already holds, for checking references and pairs."""

    services: frozenset[str] = frozenset()
    regions: dict[str, str | None] = field(default_factory=dict)  # key -> its pair's key


@dataclass
class Problems:
    lines: dict[tuple[str, int], int]
    found: list[dict[str, Any]] = field(default_factory=list)

    def add(self, section: str, index: int, message: str) -> None:
        where = f"{section}[{index}]"
        line = self.lines.get((section, index))
        self.found.append(
            {"loc": where, "line": line, "msg": message} if line else {"loc": where, "msg": message}
        )

    def raise_if_any(self, source: str) -> None:
        if self.found:
            first = self.found[0]
            place = first["loc"] + (f" (line {first['line']})" if "line" in first else "")
            raise Invalid(
                f"{source}: {place}: {first['msg']} ({len(self.found)} problem(s); "
                "nothing imported)",
                errors=self.found[:100],
            )


def _item_lines(node: yaml.Node | None) -> dict[tuple[str, int], int]:
    """For a YAML document, the line each list item starts on: ("units", 3) -> 42."""
    lines: dict[tuple[str, int], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(value_node, yaml.SequenceNode):
                for index, item in enumerate(value_node.value):
                    lines[(str(key_node.value), index)] = item.start_mark.line + 1
    return lines


def parse(text: str, *, source: str) -> tuple[Topology, dict[tuple[str, int], int]]:
    """Read a topology from YAML (or JSON, which YAML reads too)."""
    document, node = load_yaml(text, max_bytes=MAX_YAML_BYTES, source=source)
    lines = _item_lines(node)
    try:
        topology = Topology.model_validate(document or {})
    except ValidationError as error:
        problems = Problems(lines)
        for item in error.errors():
            loc = item["loc"]
            if len(loc) >= 2 and isinstance(loc[1], int):
                rest = ".".join(str(part) for part in loc[2:])
                problems.add(str(loc[0]), loc[1], f"{rest}: {item['msg']}" if rest else item["msg"])
            else:
                problems.found.append({"loc": ".".join(map(str, loc)), "msg": item["msg"]})
        problems.raise_if_any(source)
    return topology, lines


def check(
    topology: Topology, *, known: Known, lines: dict[tuple[str, int], int], source: str
) -> None:
    """Duplicate ids, references to unknown services or regions, and inconsistent pairs."""
    problems = Problems(lines)
    _check_duplicates(topology, problems)
    pairs = dict(known.regions)
    pairs.update({region.key: region.pair for region in topology.regions})
    _check_pairs(topology, pairs, problems)
    services = set(known.services) | {service.key for service in topology.services}
    for index, unit in enumerate(topology.units):
        if unit.service not in services:
            problems.add("units", index, f"unknown service {unit.service!r}")
        if unit.region not in pairs:
            problems.add("units", index, f"unknown region {unit.region!r}")
    problems.raise_if_any(source)


def _check_duplicates(topology: Topology, problems: Problems) -> None:
    sections: list[tuple[str, list[str]]] = [
        ("services", [service.key for service in topology.services]),
        ("regions", [region.key for region in topology.regions]),
        ("units", [f"{u.service}/{u.region}/{u.scale_unit}" for u in topology.units]),
    ]
    for section, keys in sections:
        counts = Counter(keys)
        for index, key in enumerate(keys):
            if counts[key] > 1:
                problems.add(section, index, f"duplicate id {key!r}")


def _check_pairs(topology: Topology, pairs: dict[str, str | None], problems: Problems) -> None:
    for index, region in enumerate(topology.regions):
        if region.pair is None:
            continue
        if region.pair == region.key:
            problems.add("regions", index, f"region {region.key!r} is paired with itself")
        elif region.pair not in pairs:
            problems.add("regions", index, f"pair {region.pair!r} is not a known region")
        elif pairs[region.pair] not in (None, region.key):
            problems.add(
                "regions",
                index,
                f"{region.key!r} pairs with {region.pair!r}, which pairs with "
                f"{pairs[region.pair]!r}",
            )
    # A region the document leaves unpaired but that two regions now claim.
    claimed = Counter(pair for pair in pairs.values() if pair)
    for index, region in enumerate(topology.regions):
        if claimed[region.key] > 1:
            problems.add("regions", index, f"{region.key!r} is claimed as a pair by two regions")


def pair_links(topology: Topology, known: Known) -> dict[str, str]:
    """Every pair, both ways, after the import. The document wins: a region it re-pairs (or
    unpairs) leaves its old partner unpaired."""
    links = {key: pair for key, pair in known.regions.items() if pair}
    for region in topology.regions:
        old = links.pop(region.key, None)
        if old is not None and links.get(old) == region.key:
            del links[old]
    for region in topology.regions:
        if region.pair:
            links[region.key] = region.pair
            links[region.pair] = region.key
    return links
