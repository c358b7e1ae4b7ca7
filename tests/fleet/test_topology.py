"""The topology document's checks (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vulnops.errors import Invalid
from vulnops.fleet.topology import Known, Topology, check, pair_links, parse

GOOD = """\
services:
  - key: storage
    name: Object Storage
regions:
  - key: eu-west-1
    name: EU West 1
    pair: eu-west-2
  - key: eu-west-2
    name: EU West 2
    pair: eu-west-1
  - key: canary-east
    name: Canary East
    canary: true
units:
  - service: storage
    region: eu-west-1
    scale_unit: su-01
    version: "1.0"
    traffic_share: 0.5
  - service: storage
    region: eu-west-2
    scale_unit: su-01
    version: "1.0"
    traffic_share: 0.5
"""


def _problems(text: str, known: Known | None = None) -> Invalid:
    topology, lines = parse(text, source="topology.yaml")
    with pytest.raises(Invalid) as caught:
        check(topology, known=known or Known(), lines=lines, source="topology.yaml")
    return caught.value


def test_a_good_document_passes_and_pairs_both_ways() -> None:
    topology, lines = parse(GOOD, source="t")
    check(topology, known=Known(), lines=lines, source="t")
    assert pair_links(topology, Known()) == {"eu-west-1": "eu-west-2", "eu-west-2": "eu-west-1"}


def test_a_region_paired_with_itself_is_named_with_its_line() -> None:
    error = _problems(GOOD.replace("pair: eu-west-2", "pair: eu-west-1"))
    first = error.extra["errors"][0]
    assert first["loc"] == "regions[0]" and first["line"] == 5
    assert "paired with itself" in first["msg"]
    assert "nothing imported" in error.detail


def test_a_region_that_pairs_elsewhere_is_refused() -> None:
    text = GOOD.replace("    pair: eu-west-1\n", "    pair: canary-east\n")
    messages = [problem["msg"] for problem in _problems(text).extra["errors"]]
    assert any("pairs with 'eu-west-2', which pairs with 'canary-east'" in m for m in messages)


def test_a_pair_with_a_region_already_paired_in_the_inventory_is_refused() -> None:
    text = GOOD.replace("    pair: eu-west-2\n", "    pair: us-east-1\n").replace(
        "    pair: eu-west-1\n", ""
    )
    known = Known(regions={"us-east-1": "us-east-2", "us-east-2": "us-east-1"})
    error = _problems(text, known)
    assert "which pairs with 'us-east-2'" in error.detail


def test_unknown_references_and_duplicates_are_listed_with_lines() -> None:
    text = (
        GOOD
        + """\
  - service: compute
    region: mars-1
    scale_unit: su-01
    version: "1.0"
    traffic_share: 0.1
  - service: storage
    region: eu-west-1
    scale_unit: su-01
    version: "2.0"
    traffic_share: 0.1
"""
    )
    errors = _problems(text).extra["errors"]
    messages = {(e["loc"], e["msg"]) for e in errors}
    assert ("units[2]", "unknown service 'compute'") in messages
    assert ("units[2]", "unknown region 'mars-1'") in messages
    assert ("units[3]", "duplicate id 'storage/eu-west-1/su-01'") in messages
    assert next(e for e in errors if e["loc"] == "units[2]")["line"] == 25


def test_field_errors_name_the_field_and_line() -> None:
    topology_text = GOOD.replace(
        "traffic_share: 0.5\n  - service", "traffic_share: -2\n  - service"
    )
    with pytest.raises(Invalid) as caught:
        parse(topology_text, source="t")
    first = caught.value.extra["errors"][0]
    assert first["loc"] == "units[0]" and "traffic_share" in first["msg"]
    assert first["line"] == 15


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(Invalid, match="regionz"):
        parse("regionz: []\n", source="t")


def test_not_yaml_at_all() -> None:
    with pytest.raises(Invalid, match="not valid YAML"):
        parse("services: [\n", source="t")


def test_re_pairing_leaves_the_old_partner_unpaired() -> None:
    topology, _ = parse(
        "regions:\n  - key: a\n    name: A\n    pair: c\n  - key: c\n    name: C\n", source="t"
    )
    known = Known(regions={"a": "b", "b": "a", "c": None})
    assert pair_links(topology, known) == {"a": "c", "c": "a"}


def test_yaml_aliases_are_refused_so_a_small_file_cannot_expand() -> None:
    laughs = "\n".join(
        [
            "x: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
            "y: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
            "z: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
        ]
    )
    with pytest.raises(Invalid, match=r"t: line 2: the alias \*a is refused"):
        parse(laughs, source="t")
    merged = GOOD.replace("services:\n", "defaults: &d {owner_team: t}\nservices:\n").replace(
        "    name: Object Storage\n", "    name: Object Storage\n    <<: *d\n"
    )
    with pytest.raises(Invalid, match=r"alias \*d is refused"):
        parse(merged, source="t")


def test_a_topology_over_its_bounds_is_refused_naming_the_bound() -> None:
    with pytest.raises(Invalid, match="t: line 1: nested deeper than 64 levels"):
        parse("[" * 50_000 + "]" * 50_000, source="t")
    unit = {"service": "s", "region": "r", "scale_unit": "u", "version": "1", "traffic_share": 1}
    with pytest.raises(ValidationError, match="at most 100000 items"):
        Topology.model_validate({"units": [unit] * 100_001})
    tags = "units:\n  - {service: s, region: r, scale_unit: u, version: '1', traffic_share: 1,"
    with pytest.raises(Invalid, match="at most 200 characters"):
        parse(f"{tags} tags: [{'t' * 201}]}}\n", source="t")
