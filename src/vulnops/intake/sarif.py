"""SARIF 2.1.0 logs to findings (pure): one finding per distinct rule and location.

A finding's severity comes from the first of these the tool gave (the result's own before its
rule's): the ``security-severity`` property, a score as GitHub reads it (9.0 and above
critical, 7.0 high, 4.0 medium, above 0 low, 0 none); a vendor's ``priority`` property
(Fortify's Critical, High, Medium, Low); the level (``error`` high, ``warning`` medium,
``note`` low, ``none`` none). A result with no level anywhere is SARIF's default, a warning:
the description says the tool gave none.

The log is validated against the SARIF 2.1.0 schema through ``pydantic-sarif`` (a model generated
from the official schema); a log that does not conform is refused whole, naming the first
problems by their path in the document. So is a log over the bounds of
:mod:`vulnops.parsing_limits`: more results than :data:`MAX_SARIF_RESULTS`, or a message or help
text longer than :data:`MAX_TEXT_CHARS` (the JSON's size and depth are checked where it is read).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as SarifLog

from vulnops.errors import Invalid
from vulnops.intake.states import Severity
from vulnops.parsing_limits import MAX_SARIF_RESULTS, MAX_TEXT_CHARS, check_count

MAX_LISTED_ERRORS = 20
# How many other locations and instances a finding's description names.
MAX_LISTED = 20
SOURCE = "the SARIF log"
# What a report's description holds (ReportIn.description): the messages of the results that
# became one finding are listed until it is full, then counted.
DESCRIPTION_CHARS = 100_000


@dataclass(frozen=True)
class Finding:
    scanner: str
    rule_id: str
    title: str
    description: str
    location: str
    level: str
    fingerprint: str
    severity: Severity


@dataclass(frozen=True)
class ParsedLog:
    runs: int
    findings: list[Finding]


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _result_count(document: dict[str, Any]) -> int:
    """How many results the log holds, counted before the model is built for them."""
    runs = document.get("runs")
    if not isinstance(runs, list):
        return 0
    results = (run.get("results") for run in runs if isinstance(run, dict))
    return sum(len(found) for found in results if isinstance(found, list))


def validate(document: Any) -> Any:
    if not isinstance(document, dict):
        raise Invalid("a SARIF log is a JSON object with version and runs")
    check_count(
        _result_count(document), limit=MAX_SARIF_RESULTS, what="results in one log", source=SOURCE
    )
    try:
        return SarifLog.model_validate(document)
    except ValidationError as error:
        problems = [
            {"loc": _path(tuple(item["loc"])), "msg": item["msg"]}
            for item in error.errors()[:MAX_LISTED_ERRORS]
        ]
        first = problems[0]
        raise Invalid(
            f"not a valid SARIF 2.1.0 log: {first['loc']}: {first['msg']} "
            f"({error.error_count()} problem(s))",
            errors=problems,
        ) from None


def _too_long(where: str, size: int) -> Invalid:
    return Invalid(f"{SOURCE}: {where} is {size:,} characters long; at most {MAX_TEXT_CHARS:,}")


def _bounded(text: str, where: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(where, len(text))
    return text


def _text(message: Any, where: str) -> str:
    if message is None:
        return ""
    return _bounded(str(message.markdown or message.text or ""), where)


def _message(result: Any, rule: Any, where: str) -> str:
    """A result's message, formatting a rule's message string when the result refers to one
    (each argument's size is checked before it is put in: a placeholder may repeat)."""
    if result.message.text or result.message.markdown:
        return _text(result.message, where)
    strings = (rule.messageStrings if rule is not None else None) or {}
    template = strings.get(result.message.id) if result.message.id else None
    if template is None:
        return _bounded(result.message.id or "", where)
    rendered = _bounded(str(template.text), where)
    for index, argument in enumerate(result.message.arguments or []):
        placeholder = f"{{{index}}}"
        size = len(rendered) + rendered.count(placeholder) * (len(argument) - len(placeholder))
        if size > MAX_TEXT_CHARS:
            raise _too_long(where, size)
        rendered = rendered.replace(placeholder, argument)
    return rendered


def _location(result: Any, artifacts: list[Any]) -> str:
    for location in result.locations or []:
        physical = location.physicalLocation
        if physical is None or physical.artifactLocation is None:
            continue
        artifact = physical.artifactLocation
        uri = artifact.uri
        if uri is None and artifact.index is not None and 0 <= artifact.index < len(artifacts):
            nested = artifacts[artifact.index].location
            uri = nested.uri if nested is not None else None
        if uri is None:
            continue
        line = physical.region.startLine if physical.region is not None else None
        return f"{uri}:{line}" if line else str(uri)
    return ""


_LEVELS = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.NONE,
}
_PRIORITIES = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.NONE,
    "informational": Severity.NONE,
}


def _properties(item: Any) -> dict[str, Any]:
    properties = getattr(item, "properties", None) if item is not None else None
    return properties.model_dump() if properties is not None else {}


def _score_severity(value: object) -> Severity | None:
    try:
        score = float(str(value))
    except ValueError:
        return None
    if not 0 <= score <= 10:
        return None
    if score >= 9:
        return Severity.CRITICAL
    if score >= 7:
        return Severity.HIGH
    if score >= 4:
        return Severity.MEDIUM
    return Severity.LOW if score > 0 else Severity.NONE


def _given(item: Any, field: str) -> Any:
    """A field the log wrote, not one the model filled with the schema's default (a result's
    ``level`` defaults to warning there, which hid every rule's default level)."""
    return getattr(item, field) if item is not None and field in item.model_fields_set else None


def _level(result: Any, rule: Any) -> str:
    """The result's level, else its rule's default level, else "" (none given)."""
    value = _given(result, "level")
    if value is None and rule is not None:
        value = _given(_given(rule, "defaultConfiguration"), "level")
    return str(getattr(value, "value", value) or "")


def severity(result: Any, rule: Any, level: str) -> Severity:
    """The finding's severity, in the order the module's docstring gives."""
    found = [_properties(result), _properties(rule)]
    for properties in found:
        if "security-severity" in properties:
            scored = _score_severity(properties["security-severity"])
            if scored is not None:
                return scored
    for properties in found:
        named = _PRIORITIES.get(str(properties.get("priority", "")).strip().lower())
        if named is not None:
            return named
    return _LEVELS.get(level, Severity.MEDIUM)


def _rule_for(result: Any, rules: list[Any], by_id: dict[str, Any]) -> tuple[str, Any]:
    index = result.ruleIndex
    if index is None and result.rule is not None:
        index = result.rule.index
    rule = rules[index] if index is not None and 0 <= index < len(rules) else None
    rule_id = result.ruleId or (result.rule.id if result.rule is not None else None)
    rule_id = rule_id or (rule.id if rule is not None else None) or "unknown-rule"
    if rule is None:
        rule = by_id.get(rule_id)
    return str(rule_id), rule


def _is_instance(name: str) -> bool:
    """A fingerprint or property that names one instance of an issue, not the issue: Fortify's
    instance id, for one (results that differ only there are the same issue twice)."""
    return "instance" in name.lower()


def _instance(result: Any) -> str:
    """What tells this result apart from an equal-looking one: its instance fingerprints or
    properties, else its ``guid`` ("" when it has neither)."""
    given = {
        **(result.partialFingerprints or {}),
        **(result.fingerprints or {}),
        **{k: v for k, v in _properties(result).items() if isinstance(v, str | int)},
    }
    named = sorted(f"{key}={value}" for key, value in given.items() if _is_instance(key))
    return ", ".join(named) or str(result.guid or "")


def _fingerprint(scanner: str, rule_id: str, location: str, result: Any) -> str:
    """One issue, stable across re-uploads: the scanner's own fingerprints of the issue when it
    gives them (they survive lines moving), else the rule and exact location. Instance
    fingerprints are left out, so equal-looking results are one issue."""
    given = {
        key: value
        for key, value in {
            **(result.partialFingerprints or {}),
            **(result.fingerprints or {}),
        }.items()
        if not _is_instance(key)
    }
    file_part = location.rsplit(":", 1)[0] if given else location
    material = json.dumps([scanner, rule_id, file_part, sorted(given.items())])
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class _Group:
    """The results that became one finding: their distinct messages, locations and instances
    (dicts keep the order they came in)."""

    finding: Finding
    rule: Any
    messages: dict[str, None]
    locations: dict[str, None]
    instances: dict[str, None]

    def add(self, message: str, location: str, instance: str) -> None:
        self.messages[message] = None
        if location:
            self.locations[location] = None
        if instance:
            self.instances[instance] = None


def _listed(label: str, values: list[str]) -> list[str]:
    """A fact naming up to MAX_LISTED values, then how many more."""
    shown = ", ".join(f"`{value[:100]}`" for value in values[:MAX_LISTED])
    more = f" and {len(values) - MAX_LISTED:,} more" if len(values) > MAX_LISTED else ""
    return [f"- {label}: {shown}{more}"]


def _describe(group: _Group) -> str:
    """The messages (as many as fit in a description, then how many more), the severity,
    level and places, the tool's instances, and the rule's score and help (each text is at most
    MAX_TEXT_CHARS, so the first message always fits)."""
    finding, rule, messages = group.finding, group.rule, list(group.messages)
    level, location = finding.level, finding.location
    facts = [
        f"- Severity: {finding.severity.value}",
        f"- Level: {level}" if level else "- Level: not given (SARIF's default: warning)",
    ]
    if location:
        facts.append(f"- Location: `{location}`")
    elsewhere = [place for place in group.locations if place != location]
    if elsewhere:
        facts += _listed("Also at", elsewhere)
    if len(group.instances) > 1:
        facts += _listed(f"Instances ({len(group.instances):,})", list(group.instances))
    if rule is not None:
        properties = rule.properties.model_dump() if rule.properties is not None else {}
        severity = properties.get("security-severity")
        if severity:
            facts.append(f"- Security severity: {str(severity)[:20]}")
        where = f"the help of rule {str(rule.id)[:100]}"
        help_text = _text(rule.help, where) or _text(rule.fullDescription, where)
        if help_text:
            facts += ["", help_text]
    room = DESCRIPTION_CHARS - len("\n".join(facts)) - 100
    lines: list[str] = []
    for shown, message in enumerate(messages or ["(no message)"]):
        room -= len(message) + 2
        if room < 0:
            lines += [f"…and {len(messages) - shown:,} more results at this place.", ""]
            break
        lines += [message, ""]
    return "\n".join(lines + facts)


def findings(document: Any) -> ParsedLog:
    """The log's findings, one per issue (:func:`_fingerprint`): results that share a rule and
    location (Trivy reports one per package, all at the image), the tool's issue fingerprints
    (at several lines of a file), or differ only by the tool's instance id (Fortify) become one
    finding listing each result's message, location and instance."""
    log = validate(document)
    found: dict[str, _Group] = {}
    for run_index, run in enumerate(log.runs):
        driver = run.tool.driver
        scanner = str(driver.name)[:100]
        rules = list(driver.rules or [])
        by_id = {rule.id: rule for rule in reversed(rules)}  # the first of an id wins
        artifacts = list(run.artifacts or [])
        for result_index, result in enumerate(run.results or []):
            where = f"runs[{run_index}].results[{result_index}].message"
            rule_id, rule = _rule_for(result, rules, by_id)
            location = _location(result, artifacts)
            level = _level(result, rule)
            message = _message(result, rule, where)
            short = ""
            if rule is not None:
                short = _text(rule.shortDescription, f"the description of rule {rule_id[:100]}")
            headline = short or message.split("\n", 1)[0] or rule_id
            title = f"{headline} ({rule_id})" if short and rule_id not in headline else headline
            # The rule's name first when it says more than its id (Trivy's class of finding,
            # Fortify's name for an opaque id).
            name = str(rule.name) if rule is not None and rule.name else ""
            if name and name != rule_id and name not in headline:
                title = f"{name}: {title}"
            if location:
                title = f"{title} at {location}"
            fingerprint = _fingerprint(scanner, rule_id, location, result)
            if fingerprint in found:
                found[fingerprint].add(message, location, _instance(result))
                continue
            finding = Finding(
                scanner=scanner,
                rule_id=rule_id[:300],
                title=title[:300],
                description="",
                location=location[:500],
                level=level,
                fingerprint=fingerprint,
                severity=severity(result, rule, level or "warning"),
            )
            found[fingerprint] = _Group(finding, rule, {}, {}, {})
            found[fingerprint].add(message, location, _instance(result))
    return ParsedLog(
        runs=len(log.runs),
        findings=[replace(group.finding, description=_describe(group)) for group in found.values()],
    )
