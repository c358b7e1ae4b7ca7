"""Is a CVE record valid? Checked against the CVE JSON schema bundled with ``cvelib``: the CNA
container against the published-container schema (its errors name the field), the whole record
against the full schema."""

from __future__ import annotations

from typing import Any

from cvelib.cve_api import CveRecord, CveRecordValidationError


def _problems(document: dict[str, Any], schema: object, prefix: str) -> list[str]:
    try:
        CveRecord.validate(document, schema_path=str(schema))
    except CveRecordValidationError as error:
        found = []
        for problem in error.errors or []:
            where = "/".join(str(part) for part in problem.absolute_path)
            found.append(f"{prefix}{'/' + where if where else ''}: {problem.message}")
        return sorted(found)
    return []


def problems(record: dict[str, Any]) -> list[str]:
    """Every failing field, or an empty list for a valid record."""
    cna = record.get("containers", {}).get("cna", {})
    found = _problems(cna, CveRecord.Schemas.CNA_PUBLISHED, "containers/cna")
    if not found:
        found = _problems(record, CveRecord.Schemas.V5_SCHEMA, "")
    return found
