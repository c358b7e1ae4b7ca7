"""SARIF 2.1.0 logs to findings (pure): one finding per distinct rule and location.

The log is validated against the SARIF 2.1.0 schema through ``pydantic-sarif`` (a model generated
from the official schema); a log that does not conform is refused whole, naming the first
problems by their path in the document.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as SarifLog

from vulnops.errors import Invalid

MAX_LISTED_ERRORS = 20


@dataclass(frozen=True)
class Finding:
    scanner: str
    rule_id: str
    title: str
    description: str
    location: str
    level: str
    fingerprint: str


@dataclass(frozen=True)
class ParsedLog:
    runs: int
    findings: list[Finding]


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def validate(document: Any) -> Any:
    if not isinstance(document, dict):
        raise Invalid("a SARIF log is a JSON object with version and runs")
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


def _text(message: Any) -> str:
    if message is None:
        return ""
    return str(message.markdown or message.text or "")


def _message(result: Any, rule: Any) -> str:
    """A result's message, formatting a rule's message string when the result refers to one."""
    if result.message.text or result.message.markdown:
        return _text(result.message)
    strings = (rule.messageStrings if rule is not None else None) or {}
    template = strings.get(result.message.id) if result.message.id else None
    if template is None:
        return result.message.id or ""
    rendered = str(template.text)
    for index, argument in enumerate(result.message.arguments or []):
        rendered = rendered.replace(f"{{{index}}}", argument)
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


def _rule_for(result: Any, rules: list[Any]) -> tuple[str, Any]:
    index = result.ruleIndex
    if index is None and result.rule is not None:
        index = result.rule.index
    rule = rules[index] if index is not None and 0 <= index < len(rules) else None
    rule_id = result.ruleId or (result.rule.id if result.rule is not None else None)
    rule_id = rule_id or (rule.id if rule is not None else None) or "unknown-rule"
    if rule is None:
        rule = next((candidate for candidate in rules if candidate.id == rule_id), None)
    return str(rule_id), rule


def _fingerprint(scanner: str, rule_id: str, location: str, result: Any) -> str:
    """Stable across re-uploads: the scanner's own fingerprints when it gives them (they survive
    lines moving), else the rule and exact location."""
    given = {**(result.partialFingerprints or {}), **(result.fingerprints or {})}
    file_part = location.rsplit(":", 1)[0] if given else location
    material = json.dumps([scanner, rule_id, file_part, sorted(given.items())])
    return hashlib.sha256(material.encode()).hexdigest()


def _describe(rule: Any, messages: list[str], level: str, location: str) -> str:
    lines = []
    for message in messages or ["(no message)"]:
        lines += [message, ""]
    lines.append(f"- Level: {level}")
    if location:
        lines.append(f"- Location: `{location}`")
    if rule is not None:
        properties = rule.properties.model_dump() if rule.properties is not None else {}
        severity = properties.get("security-severity")
        if severity:
            lines.append(f"- Security severity: {severity}")
        help_text = _text(rule.help) or _text(rule.fullDescription)
        if help_text:
            lines += ["", help_text]
    return "\n".join(lines)


def findings(document: Any) -> ParsedLog:
    """The log's findings; results that share a rule and location (Trivy reports one per
    package, all at the image) become one finding listing each result's message."""
    log = validate(document)
    found: dict[str, tuple[Finding, Any, list[str]]] = {}
    for run in log.runs:
        driver = run.tool.driver
        scanner = str(driver.name)[:100]
        rules = list(driver.rules or [])
        artifacts = list(run.artifacts or [])
        for result in run.results or []:
            rule_id, rule = _rule_for(result, rules)
            location = _location(result, artifacts)
            default_level = None
            if rule is not None and rule.defaultConfiguration is not None:
                default_level = rule.defaultConfiguration.level
            level_value = result.level or default_level
            level = str(getattr(level_value, "value", level_value) or "warning")
            message = _message(result, rule)
            short = _text(rule.shortDescription) if rule is not None else ""
            headline = short or message.split("\n", 1)[0] or rule_id
            title = f"{headline} ({rule_id})" if short and rule_id not in headline else headline
            if location:
                title = f"{title} at {location}"
            fingerprint = _fingerprint(scanner, rule_id, location, result)
            if fingerprint in found:
                messages = found[fingerprint][2]
                if message not in messages:
                    messages.append(message)
                continue
            finding = Finding(
                scanner=scanner,
                rule_id=rule_id[:300],
                title=title[:300],
                description="",
                location=location[:500],
                level=level,
                fingerprint=fingerprint,
            )
            found[fingerprint] = (finding, rule, [message])
    return ParsedLog(
        runs=len(log.runs),
        findings=[
            replace(finding, description=_describe(rule, messages, finding.level, finding.location))
            for finding, rule, messages in found.values()
        ],
    )
