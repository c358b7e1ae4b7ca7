"""CycloneDX SBOMs (JSON): validated against the CycloneDX schema of their spec version with
cyclonedx-python-lib, then read for the package URLs of every component, nested ones included."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from vulnops.errors import Invalid


@dataclass(frozen=True)
class Package:
    purl: str
    type: str
    namespace: str
    name: str
    version: str


@dataclass(frozen=True)
class ParsedSbom:
    spec_version: str
    document: dict[str, Any]
    packages: list[Package]
    without_purl: int


def parse_purl(text: str, *, field: str) -> PackageURL:
    try:
        return PackageURL.from_string(text.strip())
    except ValueError as error:
        raise Invalid(f"{field}: {text!r} is not a package URL: {error}") from None


def _components(items: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            found.append(item)
            found += _components(item.get("components") or [])
    return found


@cache
def _validator(schema: SchemaVersion) -> JsonStrictValidator:
    """One validator per spec version: each compiles its schema once, on first use."""
    return JsonStrictValidator(schema)


def parse(text: str | bytes, *, source: str) -> ParsedSbom:
    """A CycloneDX JSON document, validated; a document that is not one is refused whole."""
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Invalid(f"{source}: not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise Invalid(f'{source}: not a CycloneDX SBOM (bomFormat must be "CycloneDX")')
    spec = str(document.get("specVersion", ""))
    try:
        validator = _validator(SchemaVersion.from_version(spec))
    except ValueError:
        # Unknown versions, and 1.0 and 1.1, which had no JSON format.
        raise Invalid(
            f"{source}: unsupported CycloneDX specVersion {spec!r} (JSON SBOMs are 1.2 or newer)"
        ) from None
    failure = validator.validate_str(text if isinstance(text, str) else text.decode())
    if failure is not None:
        raise Invalid(f"{source}: not a valid CycloneDX {spec} document: {failure}")
    packages: dict[str, Package] = {}
    without_purl = 0
    for component in _components(list(document.get("components") or [])):
        text_purl = component.get("purl")
        if not text_purl:
            without_purl += 1
            continue
        purl = parse_purl(str(text_purl), field=f"{source}: component {component.get('name')!r}")
        packages[str(text_purl)] = Package(
            purl=str(text_purl),
            type=purl.type,
            namespace=purl.namespace or "",
            name=purl.name,
            version=purl.version or str(component.get("version") or ""),
        )
    return ParsedSbom(
        spec_version=spec,
        document=document,
        packages=list(packages.values()),
        without_purl=without_purl,
    )
