"""Version ranges (``vers:`` URIs, read by univers) over the versions in SBOMs (pure).

A ``vers`` scheme is named after the package URL type of the packages it compares (``npm``,
``deb``, ``apk``…), so a range fits a package when its scheme is the package's type. Which
schemes can be compared is univers' list (``RANGE_CLASS_BY_SCHEMES``), not ours.
"""

from __future__ import annotations

from typing import Any, cast

from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange

from vulnops.errors import Invalid

# Schemes that are not a package type: ranges over versions of no particular ecosystem.
GENERIC_SCHEMES = frozenset({"all", "none", "generic", "intdot", "datetime", "lexicographic"})


def parse_range(text: str, *, purl_type: str, field: str) -> VersionRange:
    try:
        version_range = cast(
            VersionRange,
            VersionRange.from_string(text.strip()),  # type: ignore[no-untyped-call]
        )
    except Exception as error:
        raise Invalid(f"{field}: {text!r} is not a valid vers: range: {error}") from None
    scheme = str(cast(Any, version_range).scheme)
    if scheme == purl_type:
        return version_range
    if purl_type not in RANGE_CLASS_BY_SCHEMES:
        known = ", ".join(sorted(set(RANGE_CLASS_BY_SCHEMES) - GENERIC_SCHEMES))
        raise Invalid(
            f"{field}: versions of {purl_type!r} packages cannot be compared (there is no "
            f"vers:{purl_type} scheme; there is one for {known})"
        )
    raise Invalid(
        f"{field}: the range is for {scheme!r} versions but the package is "
        f"a {purl_type!r} package (use vers:{purl_type}/...)"
    )


def select(version_range: VersionRange, versions: list[str]) -> tuple[list[str], list[str]]:
    """The versions inside the range, and those that could not be read as its kind of version."""
    inside, unreadable = [], []
    for version in versions:
        try:
            if cast(Any, version_range).version_class(version) in version_range:
                inside.append(version)
        except Exception:
            unreadable.append(version)
    return inside, unreadable
