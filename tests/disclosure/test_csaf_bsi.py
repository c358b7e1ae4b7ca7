"""The CSAF documents against the BSI validator's mandatory tests (``bsi_validator``): built
from facts here, from a disclosed case through the API in ``test_public``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cpe import CPE

from disclosure import bsi_validator
from vulnops.disclosure import csaf
from vulnops.disclosure.csaf import CsafFacts
from vulnops.disclosure.csaf_products import NotAffected, cpe, cpe_value
from vulnops.disclosure.cve_record import AffectedProduct

FACTS = CsafFacts(
    tracking_id="CASE-2026-000005",
    title="Organisation owner through role import",
    summary="Importing a role definition did not check who may grant the owner role.",
    vendor="Example Cloud",
    namespace="https://cloud.example",
    url="https://cloud.example/security/advisories/CASE-2026-000005",
    json_url="https://cloud.example/.well-known/csaf/white/2026/case-2026-000005.json",
    released=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    affected=(
        AffectedProduct(
            key="identity", product="Identity", versions=("2026.11.3",), fixed_in="2026.12.1"
        ),
    ),
    cve_id="CVE-2026-31337",
    cwe_id=269,
    cvss31="CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
    customer_action_required=True,
    credits=("Robin Researcher",),
    rating="important",
    impact="A member allowed to import roles could make themselves owner.",
    mitigated_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
)


def test_both_documents_pass_every_mandatory_test() -> None:
    """Found: both failed 6.1.11, the CWE's name being its id."""
    advisory = csaf.document(FACTS, category="csaf_security_advisory")
    vex = csaf.document(FACTS, category="csaf_vex")
    verdicts = bsi_validator.assert_passes(advisory, vex)
    assert advisory["vulnerabilities"][0]["cwe"]["name"] == "Improper Privilege Management"
    # The optional tests find nothing: found before were 6.2.11 (the self reference was the
    # page, not the document), 6.2.13 (keys not sorted) and 6.2.16 (no product identification
    # helper; every version now has its CPE).
    assert [verdict.findings for verdict in verdicts] == [[], []]
    assert advisory["document"]["acknowledgments"] == [
        {"names": ["Robin Researcher"], "summary": "for reporting the vulnerability"}
    ]
    assert advisory["document"]["aggregate_severity"] == {"text": "Important"}
    [vulnerability] = advisory["vulnerabilities"]
    assert vulnerability["remediations"][0]["date"] == "2026-11-30T09:00:00+00:00"
    assert vulnerability["threats"] == [
        {
            "category": "impact",
            "details": FACTS.impact,
            "product_ids": vulnerability["product_status"]["known_affected"],
        }
    ]
    references = {ref["category"]: ref["url"] for ref in advisory["document"]["references"]}
    assert references == {"self": FACTS.json_url, "external": FACTS.url}


def test_the_validator_runs_its_mandatory_tests_for_real() -> None:
    """The control: a CWE name that does not match is what 6.1.11 fails."""
    advisory = csaf.document(FACTS, category="csaf_security_advisory")
    advisory["vulnerabilities"][0]["cwe"]["name"] = "CWE-269"
    [verdict] = bsi_validator.validate(advisory)
    assert verdict.failures == [
        "mandatoryTest_6_1_11 /vulnerabilities/0/cwe/name: the name does not match the weakness "
        "with the given id"
    ]


def test_a_vex_document_states_each_version_with_a_justification() -> None:
    """Found: the VEX document was the advisory with its category changed. Now the versions the
    SBOMs clear are ``known_not_affected``, each with the flag that says why (6.1.27.9 fails a
    not-affected product without one), and the advisory leaves them out."""
    facts = replace(
        FACTS,
        not_affected=(
            NotAffected("identity", "Identity", "2026.10.1", "component_not_present"),
            NotAffected("identity", "Identity", "2026.11.1", "vulnerable_code_not_present"),
        ),
    )
    vex = csaf.document(facts, category="csaf_vex")
    [verdict] = bsi_validator.assert_passes(vex)
    assert verdict.findings == []
    [vulnerability] = vex["vulnerabilities"]
    assert vulnerability["product_status"] == {
        "fixed": ["identity:2026.12.1"],
        "known_affected": ["identity:2026.11.3"],
        "known_not_affected": ["identity:2026.10.1", "identity:2026.11.1"],
    }
    assert vulnerability["flags"] == [
        {"label": "component_not_present", "product_ids": ["identity:2026.10.1"]},
        {"label": "vulnerable_code_not_present", "product_ids": ["identity:2026.11.1"]},
    ]
    advisory = csaf.document(facts, category="csaf_security_advisory")
    assert "known_not_affected" not in advisory["vulnerabilities"][0]["product_status"]
    assert "flags" not in advisory["vulnerabilities"][0]


def test_the_control_a_not_affected_version_without_its_flag_fails_6_1_27_9() -> None:
    facts = replace(
        FACTS,
        not_affected=(NotAffected("identity", "Identity", "2026.10.1", "component_not_present"),),
    )
    vex = csaf.document(facts, category="csaf_vex")
    del vex["vulnerabilities"][0]["flags"]
    [verdict] = bsi_validator.validate(vex)
    assert [failure.split(" ", 1)[0] for failure in verdict.failures] == ["mandatoryTest_6_1_27_9"]


def test_each_version_is_named_by_a_cpe_that_the_cpe_library_reads_back() -> None:
    advisory = csaf.document(FACTS, category="csaf_security_advisory")
    [vendor] = advisory["product_tree"]["branches"]
    [identity] = vendor["branches"]
    names = [
        leaf["product"]["product_identification_helper"]["cpe"] for leaf in identity["branches"]
    ]
    assert names == [
        "cpe:2.3:a:example_cloud:identity:2026.11.3:*:*:*:*:*:*:*",
        "cpe:2.3:a:example_cloud:identity:2026.12.1:*:*:*:*:*:*:*",
    ]
    odd = cpe("Example Cloud", "db:admin", "1.0+build/7")
    parsed = CPE(odd)
    assert parsed.get_vendor() == ["example_cloud"]
    assert parsed.get_product() == ["db\\:admin"]
    assert parsed.get_version() == ["1.0\\+build\\/7"]
    assert cpe_value(" A b ") == "a_b"


def test_a_version_range_is_the_one_product_without_a_helper() -> None:
    """What docs/disclosure.md lists: with no affected version known, the product is the range
    below the fix, which no CPE names — the only optional finding."""
    facts = replace(
        FACTS, affected=(AffectedProduct(key="identity", product="Identity", fixed_in="2026.12.1"),)
    )
    [verdict] = bsi_validator.assert_passes(csaf.document(facts, category="csaf_vex"))
    assert verdict.findings == [
        "optionalTest_6_2_16 /product_tree/branches/0/branches/0/branches/0/product: missing "
        "product identification helper"
    ]
