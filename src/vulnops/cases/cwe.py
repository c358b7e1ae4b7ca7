"""CWE names, from MITRE's CWE list as the ``cwe2`` package ships it (its XML catalogue).

A CWE in a CVE record or a CSAF document carries its name as MITRE writes it (the BSI
validator's mandatory test 6.1.11 compares them), and an assessment may only name a CWE the
list holds. The catalogue is read once, on first use, into a table of id → name: weaknesses,
categories and views (``cwe2``'s own lookup reads its files anew for every id, up to a second).
The list's version is recorded with every record and document that names a CWE.
"""

from __future__ import annotations

import importlib.metadata
from functools import cache

import defusedxml.ElementTree as SafeTree
from cwe2.mappings import xml_database_path

_NAMESPACE = "{http://cwe.mitre.org/cwe-7}"
_ENTRIES = {f"{_NAMESPACE}{tag}" for tag in ("Weakness", "Category", "View")}


@cache
def _catalogue() -> tuple[str, dict[int, str]]:
    """The list's version and its names."""
    names: dict[int, str] = {}
    version = ""
    for event, element in SafeTree.iterparse(xml_database_path, events=("start", "end")):
        if event == "start" and element.tag == f"{_NAMESPACE}Weakness_Catalog":
            version = element.get("Version", "")
        elif event == "end" and element.tag in _ENTRIES:
            names[int(element.get("ID", "0"))] = element.get("Name", "")
            element.clear()
    return version, names


def name(cwe_id: int) -> str | None:
    """MITRE's name of the CWE, or None when the list does not hold it."""
    return _catalogue()[1].get(cwe_id)


def label(cwe_id: int) -> str:
    """``CWE-269: Improper Privilege Management`` (the form CVE records use)."""
    found = name(cwe_id)
    return f"CWE-{cwe_id}: {found}" if found else f"CWE-{cwe_id}"


def version() -> str:
    """``CWE 4.14 (cwe2 3.0.0)``: the list, and the package it came with."""
    return f"CWE {_catalogue()[0]} (cwe2 {importlib.metadata.version('cwe2')})"
