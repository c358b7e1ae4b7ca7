"""CycloneDX SBOMs (JSON): validated against the CycloneDX schema of their spec version with
cyclonedx-python-lib, then read for the package URLs of every component, nested ones included.

A document over the bounds of :mod:`vulnops.parsing_limits` (its size, nesting, number of
components) is refused before the schema is checked, and a component whose package URL or parts
do not fit the columns of ``components`` is refused naming it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from vulnops.errors import Invalid
from vulnops.parsing_limits import MAX_DOCUMENT_BYTES, MAX_SBOM_COMPONENTS, check_count, load_json

# The sizes of the columns of ``components`` each package is stored in.
FIELD_CHARS = {"purl": 2000, "type": 50, "namespace": 500, "name": 500, "version": 200}


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


# Older spellings of a package URL type, and the type and namespace the purl spec gives them
# now: Alpine's packages were ``pkg:alpine/curl``, and are ``pkg:apk/alpine/curl``.
LEGACY_TYPES = {"alpine": ("apk", "alpine")}


def parse_purl(text: str, *, field: str) -> PackageURL:
    """A package URL, its legacy type spelled as the spec spells it now (so an SBOM written
    either way and a query written either way name the same package)."""
    try:
        purl = PackageURL.from_string(text.strip())
    except ValueError as error:
        raise Invalid(f"{field}: {text!r} is not a package URL: {error}") from None
    if purl.type in LEGACY_TYPES:
        purl_type, namespace = LEGACY_TYPES[purl.type]
        return purl._replace(type=purl_type, namespace=purl.namespace or namespace)
    return purl


def _components(items: list[Any], *, source: str) -> list[dict[str, Any]]:
    """Every component, nested ones after their parent, up to the bound."""
    found: list[dict[str, Any]] = []
    stack = list(reversed(items))
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        found.append(item)
        check_count(len(found), limit=MAX_SBOM_COMPONENTS, what="components", source=source)
        nested = item.get("components")
        if isinstance(nested, list):
            stack.extend(reversed(nested))
    return found


def _package(component: dict[str, Any], text_purl: str, *, source: str) -> Package:
    where = f"{source}: component {str(component.get('name'))[:200]!r}"
    if len(text_purl) > FIELD_CHARS["purl"]:
        raise Invalid(f"{where}: its purl is longer than {FIELD_CHARS['purl']} characters")
    purl = parse_purl(text_purl, field=where)
    package = Package(
        purl=text_purl,
        type=purl.type,
        namespace=purl.namespace or "",
        name=purl.name,
        version=purl.version or str(component.get("version") or ""),
    )
    for field, limit in FIELD_CHARS.items():
        if len(getattr(package, field)) > limit:
            raise Invalid(f"{where}: its {field} is longer than {limit} characters")
    return package


@cache
def _validator(schema: SchemaVersion) -> JsonStrictValidator:
    """One validator per spec version: each compiles its schema once, on first use."""
    return JsonStrictValidator(schema)


def parse(text: str | bytes, *, source: str) -> ParsedSbom:
    """A CycloneDX JSON document, validated; a document that is not one is refused whole."""
    document = load_json(text, max_bytes=MAX_DOCUMENT_BYTES, source=source)
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise Invalid(f'{source}: not a CycloneDX SBOM (bomFormat must be "CycloneDX")')
    components = _components(list(document.get("components") or []), source=source)
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
    for component in components:
        text_purl = component.get("purl")
        if not text_purl:
            without_purl += 1
            continue
        packages[str(text_purl)] = _package(component, str(text_purl), source=source)
    return ParsedSbom(
        spec_version=spec,
        document=document,
        packages=list(packages.values()),
        without_purl=without_purl,
    )
