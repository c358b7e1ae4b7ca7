"""JUnit XML test reports (pure): what a suite ran and what failed.

Read with junitparser after defusedxml has parsed the document, so that a report cannot declare
entities (no billion laughs, no reading local files). Counts come from the test cases themselves,
not from the attributes a tool wrote at the top (Surefire, go-junit-report and pytest disagree
on which ones they write). A report passes when it ran at least one test and none failed or
errored; skipped tests are neither.

The report is read as a stream of elements, so that one over the bounds of
:mod:`vulnops.parsing_limits` (its size, its nesting, :data:`MAX_JUNIT_CASES` test cases) is
refused where the bound is passed; the names and messages kept are excerpts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException
from junitparser import Error, Failure, Skipped, TestCase

from vulnops.errors import Invalid
from vulnops.parsing_limits import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_JUNIT_CASES,
    check_count,
    check_size,
)

LISTED = 50
EXCERPT = 500  # characters kept of a failed case's suite, name and message


@dataclass(frozen=True)
class FailedCase:
    suite: str
    name: str
    kind: str  # failure or error
    message: str


@dataclass(frozen=True)
class Summary:
    suites: int
    tests: int
    failures: int
    errors: int
    skipped: int
    failed: list[FailedCase] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.tests - self.skipped > 0 and self.failures == 0 and self.errors == 0


def _message(result: Failure | Error) -> str:
    """The ``message`` attribute, else the element's text: Jest (jest-junit) writes no
    attribute and puts the whole failure in the body; Surefire writes both."""
    return (result.message or result.text or "").strip()


def _read(data: bytes, *, source: str) -> Element:
    """The document's root, parsed element by element within the depth and case bounds."""
    check_size(data, max_bytes=MAX_DOCUMENT_BYTES, source=source)
    depth = cases = 0
    elements = SafeTree.iterparse(io.BytesIO(data), events=("start", "end"))
    for event, element in elements:
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > MAX_DEPTH:
            raise Invalid(f"{source}: elements nested deeper than {MAX_DEPTH} levels")
        if element.tag == "testcase":
            cases += 1
            check_count(cases, limit=MAX_JUNIT_CASES, what="test cases", source=source)
    root: Element = elements.root  # type: ignore[attr-defined]
    return root


def parse(data: bytes, *, source: str) -> Summary:
    try:
        root = _read(data, source=source)
    except DefusedXmlException as error:
        raise Invalid(f"{source}: declares DTDs or entities, which are refused ({error})") from None
    except ParseError as error:
        raise Invalid(f"{source} is not a JUnit XML report: not well-formed XML: {error}") from None
    if root.tag not in {"testsuites", "testsuite"}:
        raise Invalid(
            f"{source}: not a JUnit XML report (the root is <{root.tag}>, "
            "not <testsuites> or <testsuite>)"
        )
    tests = failures = errors = skipped = 0
    failed: list[FailedCase] = []
    # Every <testcase> once, under the suite that holds it (suites may nest).
    suites = list(root.iter("testsuite"))
    for suite in suites:
        for element in suite.findall("testcase"):
            case = TestCase.fromelem(element)  # type: ignore[no-untyped-call]
            tests += 1
            for result in case.result:
                if isinstance(result, Skipped):
                    skipped += 1
                elif isinstance(result, Failure | Error):
                    kind = "error" if isinstance(result, Error) else "failure"
                    failures += kind == "failure"
                    errors += kind == "error"
                    if len(failed) < LISTED:
                        name = f"{case.classname or ''}.{case.name or ''}".strip(".")
                        failed.append(
                            FailedCase(
                                suite=suite.get("name", "")[:EXCERPT],
                                name=name[:EXCERPT],
                                kind=kind,
                                message=_message(result)[:EXCERPT],
                            )
                        )
                    break
    return Summary(
        suites=len(suites),
        tests=tests,
        failures=failures,
        errors=errors,
        skipped=skipped,
        failed=failed,
    )
