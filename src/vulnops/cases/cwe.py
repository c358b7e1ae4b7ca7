"""CWE names and the research view's hierarchy, from MITRE's CWE list as the ``cwe2`` package
ships it (its XML catalogue).

A CWE in a CVE record or a CSAF document carries its name as MITRE writes it (the BSI
validator's mandatory test 6.1.11 compares them), and an assessment may only name a CWE the
list holds. The catalogue is read once, on first use, into a table of id → name: weaknesses,
categories and views (``cwe2``'s own lookup reads its files anew for every id, up to a second).
The list's version is recorded with every record and document that names a CWE.

The same pass keeps each weakness's abstraction (pillar, class, base, variant, compound) and its
``ChildOf`` parents in the research view, CWE-1000: the root-cause analysis shows a weakness's
ancestors, and a history hunt looks for earlier cases of a weakness or one of its descendants.
"""

from __future__ import annotations

import importlib.metadata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeTree
from cwe2.mappings import xml_database_path

_NAMESPACE = "{http://cwe.mitre.org/cwe-7}"
_ENTRIES = {f"{_NAMESPACE}{tag}" for tag in ("Weakness", "Category", "View")}
_WEAKNESS = f"{_NAMESPACE}Weakness"
_RELATED = f"{_NAMESPACE}Related_Weakness"
RESEARCH_VIEW = "1000"


@dataclass
class _Catalogue:
    version: str = ""
    names: dict[int, str] = field(default_factory=dict)
    abstraction: dict[int, str] = field(default_factory=dict)
    # ChildOf in CWE-1000, the primary parent first.
    parents: dict[int, list[int]] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def _parents(element: Element) -> list[int]:
    related = [
        r
        for r in element.iter(_RELATED)
        if r.get("Nature") == "ChildOf" and r.get("View_ID") == RESEARCH_VIEW
    ]
    related.sort(key=lambda r: r.get("Ordinal") != "Primary")
    return [int(r.get("CWE_ID", "0")) for r in related]


@cache
def _catalogue() -> _Catalogue:
    """The list's version, names, abstractions and research-view parents."""
    found = _Catalogue()
    for event, element in SafeTree.iterparse(xml_database_path, events=("start", "end")):
        if event == "start" and element.tag == f"{_NAMESPACE}Weakness_Catalog":
            found.version = element.get("Version", "")
        elif event == "end" and element.tag in _ENTRIES:
            cwe_id = int(element.get("ID", "0"))
            found.names[cwe_id] = element.get("Name", "")
            if element.tag == _WEAKNESS:
                found.abstraction[cwe_id] = element.get("Abstraction", "").lower()
                found.parents[cwe_id] = _parents(element)
                for parent in found.parents[cwe_id]:
                    found.children[parent].append(cwe_id)
            element.clear()
    return found


def name(cwe_id: int) -> str | None:
    """MITRE's name of the CWE, or None when the list does not hold it."""
    return _catalogue().names.get(cwe_id)


def abstraction(cwe_id: int) -> str | None:
    """``pillar``, ``class``, ``base``, ``variant`` or ``compound``; None for a category, a
    view or an id the list does not hold."""
    return _catalogue().abstraction.get(cwe_id)


def ancestors(cwe_id: int) -> list[int]:
    """The weakness's line up CWE-1000 by primary parents, nearest first (918 → 441, 610, 664:
    base, class, class, pillar)."""
    line: list[int] = []
    parents = _catalogue().parents
    current = cwe_id
    while (above := parents.get(current)) and above[0] not in line:
        line.append(above[0])
        current = above[0]
    return line


def descendants(cwe_id: int) -> set[int]:
    """Every weakness below it in CWE-1000, by any ChildOf (the view is a graph, not a tree)."""
    children = _catalogue().children
    found: set[int] = set()
    todo = list(children.get(cwe_id, []))
    while todo:
        child = todo.pop()
        if child not in found:
            found.add(child)
            todo.extend(children.get(child, []))
    return found


def label(cwe_id: int) -> str:
    """``CWE-269: Improper Privilege Management`` (the form CVE records use)."""
    found = name(cwe_id)
    return f"CWE-{cwe_id}: {found}" if found else f"CWE-{cwe_id}"


def version() -> str:
    """``CWE 4.14 (cwe2 3.0.0)``: the list, and the package it came with."""
    return f"CWE {_catalogue().version} (cwe2 {importlib.metadata.version('cwe2')})"
