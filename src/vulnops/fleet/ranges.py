"""Version ranges (``vers:`` URIs, read by univers) over the versions in SBOMs (pure)."""

from __future__ import annotations

from typing import Any, cast

from univers.version_range import VersionRange

from vulnops.errors import Invalid

# Package URL types whose vers scheme has another name.
SCHEME_OF_TYPE = {"apk": "alpine"}


def parse_range(text: str, *, purl_type: str, field: str) -> VersionRange:
    try:
        version_range = cast(
            VersionRange,
            VersionRange.from_string(text.strip()),  # type: ignore[no-untyped-call]
        )
    except Exception as error:
        raise Invalid(f"{field}: {text!r} is not a valid vers: range: {error}") from None
    expected = SCHEME_OF_TYPE.get(purl_type, purl_type)
    scheme = str(cast(Any, version_range).scheme)
    if scheme != expected:
        raise Invalid(
            f"{field}: the range is for {scheme!r} versions but the package is "
            f"a {purl_type!r} package (use vers:{expected}/...)"
        )
    return version_range


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
