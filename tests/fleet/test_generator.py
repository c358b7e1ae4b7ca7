"""The demo-fleet generator: deterministic, and shaped as the issue describes."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from vulnops.fleet import generator
from vulnops.fleet.topology import Known, Topology, check, pair_links


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_fleet(tmp_path: Path) -> None:
    generator.write(tmp_path / "a", seed=11, scale_name="small")
    generator.write(tmp_path / "b", seed=11, scale_name="small")
    generator.write(tmp_path / "c", seed=12, scale_name="small")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_the_large_topology_has_paired_regions_canaries_and_thousands_of_units() -> None:
    document = generator.topology(1, "large")
    topology = Topology.model_validate(document)
    check(topology, known=Known(), lines={}, source="large")
    regions = topology.regions
    assert len(regions) == 62
    assert sum(region.canary for region in regions) == 2
    links = pair_links(topology, Known())
    assert len(links) == 60  # every non-canary region paired, both ways
    assert len(topology.services) == 10
    assert 2000 <= len(topology.units) <= 5000
    shares = Counter()
    for unit in topology.units:
        shares[unit.service] += unit.traffic_share
    assert all(abs(total - 1) < 1e-3 for total in shares.values())
    arm = sum("arch=arm64" in unit.tags for unit in topology.units) / len(topology.units)
    assert 0.02 < arm < 0.08


def test_resources_stay_in_a_tenants_home_pair() -> None:
    topology = generator.topology(2, "small")
    pairs = {r["key"]: r.get("pair") for r in topology["regions"]}
    by_tenant: dict[str, set[str]] = {}
    for row in generator.resource_rows(2, "small", topology):
        by_tenant.setdefault(row[0], set()).add(row[2])
    assert len(by_tenant) == 300
    for regions in by_tenant.values():
        assert len(regions) <= 2
        if len(regions) == 2:
            first, second = sorted(regions)
            assert pairs[first] == second
