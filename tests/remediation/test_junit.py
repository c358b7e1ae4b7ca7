"""JUnit XML reports (real ones from ../shared/samples/junit) and the bounds they are read in."""

from __future__ import annotations

import pytest

from helpers import sample
from vulnops.errors import Invalid, TooLarge
from vulnops.remediation import junit


@pytest.mark.parametrize(
    ("name", "tests", "failures", "errors", "skipped"),
    [
        ("TEST-action.surefire.report.email.EmailAddressTest.xml", 9, 2, 5, 0),
        ("go-junit-report-001-report.xml", 5, 1, 0, 2),
        ("pytest-junit.gloo.elastic.xml", 14, 0, 0, 4),
    ],
)
def test_real_reports_are_read(
    name: str, tests: int, failures: int, errors: int, skipped: int
) -> None:
    summary = junit.parse(sample(f"junit/{name}").read_bytes(), source=name)
    assert (summary.tests, summary.failures, summary.errors, summary.skipped) == (
        tests,
        failures,
        errors,
        skipped,
    )


def test_a_report_over_its_bounds_is_refused_naming_the_bound() -> None:
    deep = b"<testsuite>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</testsuite>"
    with pytest.raises(Invalid, match=r"r\.xml: elements nested deeper than 64 levels"):
        junit.parse(deep, source="r.xml")
    many = b"<testsuite>" + b'<testcase name="t"/>' * 200_001 + b"</testsuite>"
    with pytest.raises(Invalid, match=r"r\.xml: more than 200,000 test cases"):
        junit.parse(many, source="r.xml")
    with pytest.raises(TooLarge, match=r"r\.xml is larger than 16 MB"):
        junit.parse(b" " * (16 * 2**20 + 1), source="r.xml")


def test_what_is_kept_of_a_failed_case_is_an_excerpt() -> None:
    report = (
        f'<testsuite name="{"s" * 2000}"><testcase classname="c" name="{"n" * 2000}">'
        f'<failure message="{"m" * 2000}"/></testcase></testsuite>'
    ).encode()
    [failed] = junit.parse(report, source="r.xml").failed
    assert (len(failed.suite), len(failed.name), len(failed.message)) == (500, 500, 500)


# What jest-junit writes: no message attribute, the failure in the element's text.
JEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="2" failures="1" errors="0" time="0.41">
  <testsuite name="sum" errors="0" failures="1" skipped="0" time="0.39" tests="2">
    <testcase classname="sum adds 1 + 2 to equal 3" name="sum adds 1 + 2 to equal 3" time="0.002">
    </testcase>
    <testcase classname="sum rounds" name="sum rounds" time="0.003">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 4
Received: 3
    at Object.toBe (/app/sum.test.js:7:17)</failure>
    </testcase>
  </testsuite>
</testsuites>"""


def test_a_failure_without_a_message_attribute_keeps_its_text() -> None:
    """Found: Jest's failures came back with an empty message."""
    summary = junit.parse(JEST, source="jest.xml")
    assert (summary.tests, summary.failures, summary.passed) == (2, 1, False)
    message = summary.failed[0].message
    assert message.startswith("Error: expect(received).toBe(expected)")
    assert "Received: 3" in message
