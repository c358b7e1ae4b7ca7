"""The weakness's line in CWE-1000, checked against MITRE's catalogue read here a second way
(ElementTree over the same XML file, following each weakness's primary ChildOf in view 1000)."""

from __future__ import annotations

import defusedxml.ElementTree as SafeTree
import pytest
from cwe2.mappings import xml_database_path

from vulnops.cases import cwe

NS = "{http://cwe.mitre.org/cwe-7}"


@pytest.fixture(scope="module")
def weaknesses() -> dict[int, tuple[str, list[tuple[int, str | None]]]]:
    found = {}
    for weakness in SafeTree.parse(xml_database_path).getroot().iter(f"{NS}Weakness"):
        parents = [
            (int(r.get("CWE_ID")), r.get("Ordinal"))
            for r in weakness.iter(f"{NS}Related_Weakness")
            if r.get("Nature") == "ChildOf" and r.get("View_ID") == "1000"
        ]
        found[int(weakness.get("ID"))] = (weakness.get("Abstraction"), parents)
    return found


@pytest.mark.parametrize("cwe_id", [918, 79, 89, 22, 639, 502, 1336])
def test_the_primary_line_up_to_a_pillar(
    weaknesses: dict[int, tuple[str, list[tuple[int, str | None]]]], cwe_id: int
) -> None:
    expected, current = [], cwe_id
    while True:
        primary = [p for p, ordinal in weaknesses[current][1] if ordinal == "Primary"]
        if not primary:
            break
        expected.append(primary[0])
        current = primary[0]
    assert cwe.ancestors(cwe_id) == expected
    assert expected, "every weakness here has a parent"
    assert weaknesses[expected[-1]][0] == "Pillar" == cwe.abstraction(expected[-1]).title()
    assert cwe.abstraction(cwe_id) == weaknesses[cwe_id][0].lower()


def test_known_lines_and_descendants() -> None:
    assert cwe.ancestors(918) == [441, 610, 664]
    assert cwe.ancestors(79) == [74, 707]
    assert cwe.ancestors(664) == []
    assert 918 in cwe.descendants(441) and 441 not in cwe.descendants(918)
    assert 918 in cwe.descendants(664) and 79 not in cwe.descendants(664)
    assert cwe.abstraction(1000) is None  # a view, not a weakness
