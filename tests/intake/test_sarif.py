"""SARIF parsing on real logs from several scanners (../shared/samples/sarif)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from helpers import sample
from vulnops.errors import Invalid
from vulnops.intake.sarif import findings
from vulnops.intake.states import Severity


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sample(f"sarif/{name}").read_text())
    return document


def test_codeql_two_runs_rule_index_and_missing_levels() -> None:
    parsed = findings(_load("codeql-action-valid-sarif.sarif"))
    assert parsed.runs == 2
    scanners = {finding.scanner for finding in parsed.findings}
    assert scanners == {"LGTM.com", "CodeQL command-line toolchain"}
    unused = [f for f in parsed.findings if f.rule_id == "js/unused-local-variable"]
    assert {f.location for f in unused} == {"main.js:2"}
    # No level on the results: their rules' default, a note (found: the model's default
    # "warning" for a result's level hid it).
    assert {(f.level, f.severity) for f in parsed.findings} == {("note", Severity.LOW)}
    assert all(f.title for f in parsed.findings)


def test_semgrep_dataflow_trace_with_fingerprints() -> None:
    parsed = findings(_load("semgrep-dataflow-traces.sarif"))
    [finding] = parsed.findings
    assert finding.scanner == "Semgrep OSS"
    assert finding.location.startswith("targets/taint/taint.py:")


def test_a_log_with_no_results_has_no_findings() -> None:
    parsed = findings(_load("semgrep-when-errors-minimal.sarif"))
    assert (parsed.runs, parsed.findings) == (1, [])


def test_trivy_results_at_the_same_place_become_one_finding_per_rule() -> None:
    parsed = findings(_load("trivy-alpine-310.sarif"))
    assert sorted(f.rule_id for f in parsed.findings) == ["CVE-2019-1549", "CVE-2019-1551"]
    first = next(f for f in parsed.findings if f.rule_id == "CVE-2019-1549")
    # Both affected packages are listed, and the rule's severity is kept.
    assert "libcrypto1.1" in first.description and "libssl1.1" in first.description
    assert "Security severity: 5.3" in first.description
    # security-severity 5.3 is medium; the rule's name is in the title.
    assert {f.severity for f in parsed.findings} == {Severity.MEDIUM}
    assert first.title.startswith("OsPackageVulnerability: openssl: information disclosure")
    assert "(CVE-2019-1549)" in first.title
    assert "- Severity: medium" in first.description


def test_semgrep_without_security_severity_takes_its_rules_level() -> None:
    [finding] = findings(_load("semgrep-dataflow-traces.sarif")).findings
    assert (finding.level, finding.severity) == ("warning", Severity.MEDIUM)


def _fortify_like(result_properties: dict[str, Any], **result: Any) -> dict[str, Any]:
    """A result as Fortify writes it: an opaque rule id, the rule's name, no level, the
    vendor's priority among the result's properties."""
    rule_id = "7B8C3F2E-0F1A-4D6B-9E3A-1C2D3E4F5A6B"
    return {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Fortify",
                        "rules": [
                            {
                                "id": rule_id,
                                "name": "SQL Injection",
                                "shortDescription": {"text": "SQL built from user input"},
                            }
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": rule_id,
                        "message": {"text": "The query is built from the request."},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "src/Orders.java"},
                                    "region": {"startLine": 42},
                                }
                            }
                        ],
                        "properties": result_properties,
                        **result,
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("properties", "result", "expected"),
    [
        ({"priority": "Critical"}, {}, Severity.CRITICAL),  # the vendor's priority, any case
        ({"priority": "low"}, {}, Severity.LOW),
        ({}, {}, Severity.MEDIUM),  # nothing given: SARIF's default level, a warning
        ({}, {"level": "error"}, Severity.HIGH),
        ({"priority": "Low", "security-severity": "9.8"}, {}, Severity.CRITICAL),  # score first
        ({"security-severity": "7.0"}, {"level": "note"}, Severity.HIGH),
        ({"security-severity": "0.0"}, {"level": "error"}, Severity.NONE),
        ({"security-severity": "not a score"}, {"level": "note"}, Severity.LOW),
    ],
)
def test_severity_comes_from_the_score_then_the_priority_then_the_level(
    properties: dict[str, Any], result: dict[str, Any], expected: Severity
) -> None:
    """Found: Fortify's results (no level) showed "warning", their priority ignored."""
    [finding] = findings(_fortify_like(properties, **result)).findings
    assert finding.severity is expected


def test_a_rule_with_an_opaque_id_is_named_by_its_name_too() -> None:
    [finding] = findings(_fortify_like({"priority": "High"})).findings
    assert finding.title == (
        "SQL Injection: SQL built from user input (7B8C3F2E-0F1A-4D6B-9E3A-1C2D3E4F5A6B) "
        "at src/Orders.java:42"
    )
    assert "- Level: not given (SARIF's default: warning)" in finding.description
    assert "- Severity: high" in finding.description


def test_the_same_log_gives_the_same_fingerprints() -> None:
    once = {f.fingerprint for f in findings(_load("codeql-action-valid-sarif.sarif")).findings}
    again = {f.fingerprint for f in findings(_load("codeql-action-valid-sarif.sarif")).findings}
    assert once == again
    assert len(once) == 3


def test_fingerprints_survive_a_moved_line_when_the_scanner_gives_them() -> None:
    document = _load("codeql-action-valid-sarif.sarif")
    moved = copy.deepcopy(document)
    for run in moved["runs"]:
        for result in run.get("results", []):
            for location in result.get("locations", []):
                location["physicalLocation"]["region"]["startLine"] += 10
    before = {f.fingerprint for f in findings(document).findings}
    after = {f.fingerprint for f in findings(moved).findings}
    assert before == after


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(version="2.0.0"), "version"),
        (lambda d: d.pop("runs"), "runs"),
        (lambda d: d["runs"][0]["tool"]["driver"].pop("name"), "runs[0].tool.driver.name"),
        (lambda d: d["runs"][0]["results"][0].update(level="fatal"), "runs[0].results[0].level"),
        (lambda d: d["runs"][0]["results"][0].pop("message"), "runs[0].results[0].message"),
    ],
)
def test_a_broken_log_is_refused_naming_where(mutate: Any, where: str) -> None:
    document = _load("codeql-action-valid-sarif.sarif")
    mutate(document)
    with pytest.raises(Invalid) as caught:
        findings(document)
    assert where in caught.value.detail
    assert caught.value.extra["errors"][0]["loc"].startswith(where)


@pytest.mark.parametrize("not_a_log", [[], "runs", 42, None])
def test_a_document_that_is_not_an_object_is_refused(not_a_log: object) -> None:
    with pytest.raises(Invalid, match="JSON object"):
        findings(not_a_log)


def _one_rule_log(results: list[dict[str, Any]], **rule: Any) -> dict[str, Any]:
    return {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "scanner", "rules": [{"id": "r1", **rule}]}},
                "results": results,
            }
        ],
    }


def _at(path: str, **result: Any) -> dict[str, Any]:
    location = {"physicalLocation": {"artifactLocation": {"uri": path}}}
    return {"ruleId": "r1", "locations": [location], **result}


def test_a_message_or_help_text_over_the_bound_is_refused_naming_where() -> None:
    long_message = _one_rule_log([_at("a.py", message={"text": "x" * 40_001})])
    with pytest.raises(Invalid, match=r"runs\[0\]\.results\[0\]\.message is 40,001 characters"):
        findings(long_message)
    long_help = _one_rule_log([_at("a.py", message={"text": "m"})], help={"text": "h" * 50_000})
    with pytest.raises(Invalid, match="the help of rule r1 is 50,000 characters long"):
        findings(long_help)


def test_a_message_string_cannot_repeat_an_argument_past_the_bound() -> None:
    """1,000 placeholders and a 1,000-character argument would make one message of 1 MB."""
    result = _at("a.py", message={"id": "default", "arguments": ["y" * 1000]})
    document = _one_rule_log([result], messageStrings={"default": {"text": "{0}" * 1000}})
    with pytest.raises(Invalid, match="is 1,000,000 characters long; at most 40,000"):
        findings(document)
    within = _one_rule_log(
        [_at("a.py", message={"id": "default", "arguments": ["y"]})],
        messageStrings={"default": {"text": "found {0} {0}"}},
    )
    assert findings(within).findings[0].description.startswith("found y y")


def test_many_results_at_one_place_are_listed_until_the_description_is_full() -> None:
    results = [_at("image", message={"text": f"{n:05d} " + "p" * 94}) for n in range(5000)]
    [finding] = findings(_one_rule_log(results)).findings
    assert 99_000 < len(finding.description) <= 100_000
    assert (
        "…and 4,0" in finding.description and "more results at this place." in finding.description
    )
    assert finding.description.startswith("00000 ") and "- Location: `image`" in finding.description


def _fortify_pair() -> dict[str, Any]:
    """Two results as Fortify writes a pair: the same rule, place and message, told apart only
    by the instance id among their fingerprints."""
    document = _fortify_like({"priority": "High"})
    [first] = document["runs"][0]["results"]
    second = copy.deepcopy(first)
    first["partialFingerprints"] = {"instanceID": "A1B2C3D4E5F60718"}
    second["partialFingerprints"] = {"instanceID": "0F1E2D3C4B5A6978"}
    document["runs"][0]["results"].append(second)
    return document


def test_results_that_differ_only_by_their_instance_id_are_one_finding_with_both() -> None:
    """Found: 13 such pairs of Fortify results became pairs of reports with the same title,
    endpoint and text."""
    [finding] = findings(_fortify_pair()).findings
    assert (
        "- Instances (2): `instanceID=A1B2C3D4E5F60718`, `instanceID=0F1E2D3C4B5A6978`"
        in finding.description
    )
    assert finding.description.count("The query is built from the request.") == 1
    # The same pair uploaded again is the same finding (the scan import skips it).
    [again] = findings(_fortify_pair()).findings
    assert again.fingerprint == finding.fingerprint


def test_results_with_one_issue_fingerprint_at_several_lines_are_one_finding_with_each() -> None:
    def at_line(line: int, issue: str) -> dict[str, Any]:
        result = _at("app/views.py", message={"text": f"Tainted value reaches line {line}."})
        result["locations"][0]["physicalLocation"]["region"] = {"startLine": line}
        result["fingerprints"] = {"matchBasedId/v1": issue}
        return result

    log = _one_rule_log([at_line(10, "issue-1"), at_line(24, "issue-1"), at_line(60, "issue-2")])
    first, second = findings(log).findings
    assert first.location == "app/views.py:10"
    assert "- Also at: `app/views.py:24`" in first.description
    assert "Tainted value reaches line 24." in first.description
    assert second.location == "app/views.py:60" and "Also at" not in second.description
    assert "Instances" not in first.description  # no instance ids given: none listed


def test_a_finding_names_at_most_twenty_other_locations_then_counts_them() -> None:
    results = []
    for line in range(1, 26):
        result = {**_at("src/m.py"), "fingerprints": {"issue": "same"}, "message": {"text": "m"}}
        result["locations"][0]["physicalLocation"]["region"] = {"startLine": line}
        results.append(result)
    [finding] = findings(_one_rule_log(results)).findings
    assert "`src/m.py:21` and 4 more" in finding.description
    assert "src/m.py:22" not in finding.description
