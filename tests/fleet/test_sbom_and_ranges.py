"""CycloneDX SBOMs (real ones from ../shared/samples) and version ranges."""

from __future__ import annotations

import json

import pytest
from univers.version_range import RANGE_CLASS_BY_SCHEMES

from helpers import sample
from vulnops.errors import Invalid, TooLarge
from vulnops.fleet import ranges, sbom


@pytest.mark.parametrize(
    ("name", "spec", "packages", "without_purl"),
    [
        ("laravel-7.12.0.bom.1.4.json", "1.4", 62, 0),
        ("saasbom-apigateway-microservices-datastores.bom.json", "1.4", 0, 0),
        ("trivy-fluentd-multiple-lockfiles.cdx.json", "1.6", 160, 1),
    ],
)
def test_real_sboms_are_read(name: str, spec: str, packages: int, without_purl: int) -> None:
    parsed = sbom.parse(sample(f"cyclonedx/{name}").read_bytes(), source=name)
    assert (parsed.spec_version, len(parsed.packages), parsed.without_purl) == (
        spec,
        packages,
        without_purl,
    )


def test_purls_are_split_into_type_namespace_name_version() -> None:
    parsed = sbom.parse(
        sample("cyclonedx/trivy-fluentd-multiple-lockfiles.cdx.json").read_bytes(), source="x"
    )
    types = {package.type for package in parsed.packages}
    assert types == {"deb", "gem"}
    adduser = next(p for p in parsed.packages if p.name == "adduser")
    assert (adduser.namespace, adduser.version) == ("debian", "3.118")


def test_a_document_that_is_not_cyclonedx_is_refused() -> None:
    spdx = json.dumps({"spdxVersion": "SPDX-2.3", "packages": []})
    with pytest.raises(Invalid, match="not a CycloneDX SBOM"):
        sbom.parse(spdx, source="bom.json")
    with pytest.raises(Invalid, match="not valid JSON"):
        sbom.parse("<bom/>", source="bom.xml")


def test_a_cyclonedx_document_that_breaks_its_schema_is_refused() -> None:
    broken = json.loads(sample("cyclonedx/laravel-7.12.0.bom.1.4.json").read_text())
    broken["components"][0]["type"] = "spaceship"
    with pytest.raises(Invalid, match=r"not a valid CycloneDX 1\.4 document"):
        sbom.parse(json.dumps(broken), source="laravel.json")
    for spec in ("9.9", "1.1", "1.0"):
        unknown_spec = {"bomFormat": "CycloneDX", "specVersion": spec, "version": 1}
        with pytest.raises(Invalid, match=f"unsupported CycloneDX specVersion '{spec}'"):
            sbom.parse(json.dumps(unknown_spec), source="x")


def test_ranges_select_versions_by_their_ecosystem() -> None:
    semver = ranges.parse_range("vers:npm/>=4.0.0|<4.17.21", purl_type="npm", field="range")
    assert ranges.select(semver, ["3.10.1", "4.17.20", "4.17.21", "5.0.0"]) == (["4.17.20"], [])
    debian = ranges.parse_range("vers:deb/<1.1.1d-1", purl_type="deb", field="range")
    assert ranges.select(debian, ["1.1.1c-1", "1.1.1d-1"])[0] == ["1.1.1c-1"]


def test_a_bad_range_or_the_wrong_scheme_is_refused() -> None:
    with pytest.raises(Invalid, match="not a valid vers: range"):
        ranges.parse_range("vers:npm/<<1", purl_type="npm", field="range")
    with pytest.raises(Invalid, match="not a valid vers: range"):
        ranges.parse_range(">=1.0", purl_type="npm", field="range")
    with pytest.raises(Invalid, match="use vers:maven"):
        ranges.parse_range("vers:npm/<1", purl_type="maven", field="range")


# Versions each scheme reads: OpenSSL has no 2.x and writes its old releases as 1.1.1w.
_VERSIONS = {"openssl": ("1.0.0", "3.0.0", ["0.9.8", "1.1.1w", "3.0.1"])}


@pytest.mark.parametrize("scheme", sorted(set(RANGE_CLASS_BY_SCHEMES) - ranges.GENERIC_SCHEMES))
def test_every_scheme_univers_knows_is_the_range_of_its_package_type(scheme: str) -> None:
    low, high, versions = _VERSIONS.get(scheme, ("1.0", "2.0", ["0.9", "1.5", "2.1"]))
    parsed = ranges.parse_range(f"vers:{scheme}/>={low}|<{high}", purl_type=scheme, field="range")
    assert ranges.select(parsed, versions) == ([versions[1]], [])


def test_alpine_packages_take_apk_ranges_in_either_spelling_of_their_purl() -> None:
    """Found: every range on an Alpine package was refused — ``apk`` was mapped to a scheme
    ``alpine`` univers does not know — with a message contradicting itself."""
    for text in ("pkg:apk/alpine/musl@1.2.3-r0", "pkg:alpine/musl@1.2.3-r0"):
        purl = sbom.parse_purl(text, field="purl")
        assert (purl.type, purl.namespace, purl.name) == ("apk", "alpine", "musl")
        parsed = ranges.parse_range("vers:apk/<1.2.4-r0", purl_type=purl.type, field="range")
        assert ranges.select(parsed, ["1.2.3-r0", "1.2.4-r0"]) == (["1.2.3-r0"], [])
    with pytest.raises(Invalid, match="not a valid vers: range"):  # no such scheme
        ranges.parse_range("vers:alpine/<1.2.4-r0", purl_type="apk", field="range")
    with pytest.raises(Invalid, match=r"a 'apk' package \(use vers:apk/\.\.\.\)"):
        ranges.parse_range("vers:deb/<1.2.4-r0", purl_type="apk", field="range")


def test_a_package_type_without_a_scheme_is_refused_saying_so() -> None:
    with pytest.raises(Invalid, match="versions of 'swift' packages cannot be compared") as found:
        ranges.parse_range("vers:npm/<1", purl_type="swift", field="range")
    assert "there is one for alpm, apache, apk" in str(found.value)


def test_unreadable_versions_are_set_aside() -> None:
    semver = ranges.parse_range("vers:npm/<2.0.0", purl_type="npm", field="range")
    assert ranges.select(semver, ["1.0.0", "not a version"]) == (["1.0.0"], ["not a version"])


def test_a_bad_package_url_is_refused() -> None:
    with pytest.raises(Invalid, match="not a package URL"):
        sbom.parse_purl("npm:lodash", field="purl")


def _bom(components: list[dict[str, object]]) -> str:
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1, "components": components}
    )


def test_an_sbom_over_its_bounds_is_refused_naming_the_bound() -> None:
    with pytest.raises(Invalid, match=r"bom\.json: nested deeper than 64 levels"):
        sbom.parse("[" * 50_000 + "]" * 50_000, source="bom.json")
    nested: dict[str, object] = {"type": "library", "name": "leaf"}
    for level in range(40):  # components nest two JSON levels at a time
        nested = {"type": "library", "name": f"level-{level}", "components": [nested]}
    with pytest.raises(Invalid, match="nested deeper than 64 levels"):
        sbom.parse(_bom([nested]), source="bom.json")
    many = [{"type": "library", "name": f"c{n}"} for n in range(50_001)]
    with pytest.raises(Invalid, match=r"bom\.json: more than 50,000 components"):
        sbom.parse(_bom(many), source="bom.json")
    with pytest.raises(TooLarge, match=r"bom\.json is larger than 16 MB"):
        sbom.parse(b" " * (16 * 2**20 + 1), source="bom.json")


def test_a_package_that_does_not_fit_its_columns_is_refused_naming_it() -> None:
    long_name = {"type": "library", "name": "lib", "purl": f"pkg:npm/{'n' * 501}@1.0"}
    with pytest.raises(Invalid, match="component 'lib': its name is longer than 500 characters"):
        sbom.parse(_bom([long_name]), source="bom.json")
    long_purl = {"type": "library", "name": "lib", "purl": f"pkg:npm/lib@{'1' * 2000}"}
    with pytest.raises(Invalid, match="its purl is longer than 2000 characters"):
        sbom.parse(_bom([long_purl]), source="bom.json")
