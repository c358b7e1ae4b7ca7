"""What each kind of event in a case's log says (pure): its group (what it is about, for the
timeline's filter), its weight (a key event of the story, or a detail one click away) and the
sentence it tells. ``narrate`` reads this table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vulnops.audit.advisory_kinds import ADVISORY_KINDS
from vulnops.audit.telling import Group, Kind, Teller, Told, kind
from vulnops.audit.telling import reason as _reason
from vulnops.durations import humanize


def _stage(data: dict[str, Any]) -> str:
    """``stage 2 (pilot, ap-west-2)``: numbered from 1, as people count."""
    number = int(data.get("stage", 0)) + 1
    where = ", ".join([str(data["kind"]), *data.get("regions", [])]) if data.get("kind") else ""
    return f"stage {number}" + (f" ({where})" if where else "")


def _after(data: dict[str, Any], at_key: str = "began", end_key: str = "at") -> str:
    began, ended = data.get(at_key), data.get(end_key)
    if not began or not ended:
        return ""
    span = datetime.fromisoformat(str(ended)) - datetime.fromisoformat(str(began))
    return f" after {humanize(span)}"


def _words(value: str) -> str:
    return value.replace("_", " ")


def _rollout(data: dict[str, Any]) -> str:
    return f"Rollout #{data.get('rollout', '?')}"


def _units(data: dict[str, Any]) -> str:
    done, failed = len(data.get("units", [])), len(data.get("failed", {}))
    return f"{done} unit{'s' if done != 1 else ''}" + (f", {failed} failed" if failed else "")


def _severity(data: dict[str, Any], actor: str, _: str) -> Told:
    parts = [str(data.get("rating") or "unrated")]
    if data.get("cvss31_score") is not None:
        parts.append(f"CVSS 3.1 {data['cvss31_score']}")
    if data.get("cvss40_score") is not None:
        parts.append(f"CVSS 4.0 {data['cvss40_score']}")
    if data.get("ssvc"):
        parts.append(f"SSVC {data['ssvc']}")
    return Told(f"{actor} assessed the severity: {', '.join(parts)}{_reason(data)}")


def _evidence(data: dict[str, Any], actor: str, _: str) -> Told:
    suite = _words(str(data.get("suite", ""))).replace(" ", "-")
    if data.get("passed"):
        return Told(f"{actor} uploaded {suite} results for fix {data.get('fix')}: passed", "good")
    failed = int(data.get("failures", 0)) + int(data.get("errors", 0))
    return Told(
        f"{actor} uploaded {suite} results for fix {data.get('fix')}: {failed} of "
        f"{data.get('tests', '?')} tests failed",
        "bad",
    )


def _operation(verb: str) -> Teller:
    return lambda d, a, _: Told(f"{a} {verb} {_rollout(d).lower()}{_reason(d)}")


G = Group
KINDS: dict[str, Kind] = {
    **ADVISORY_KINDS,
    "case.opened": kind(G.CASE, lambda d, a, _: Told(f"{a} opened the case")),
    "case.updated": kind(
        G.CASE,
        lambda d, a, _: Told(
            f"{a} changed the case's {', '.join(_words(k) for k in d if k != 'reason')}{_reason(d)}"
        ),
    ),
    "case.severity_assessed": kind(G.CASE, _severity),
    "case.milestone_recorded": kind(
        G.CASE,
        lambda d, a, _: Told(
            f"{_words(str(d.get('milestone'))).capitalize()}"
            f"{' (skipped)' if d.get('skipped') else ''}, recorded by {a}{_reason(d)}",
            "good",
        ),
    ),
    "case.milestone_cleared": kind(
        G.CASE,
        lambda d, a, _: Told(
            f"{_words(str(d.get('milestone'))).capitalize()} no longer holds{_reason(d)}", "warn"
        ),
    ),
    "case.state_changed": kind(
        G.CASE, lambda d, a, _: Told(f"The case became {_words(str(d.get('to')))}")
    ),
    "case.sla_breached": kind(
        G.CASE,
        lambda d, a, _: Told(f"The {d.get('milestone')} deadline passed before it was met", "bad"),
    ),
    "case.report_added": kind(
        G.REPORTS, lambda d, a, _: Told(f"{a} added report {d.get('report')} to the case")
    ),
    "case.blast_radius_computed": kind(
        G.CASE,
        lambda d, a, _: Told(
            f"{a} computed the blast radius: {d.get('units', 0):,} units, "
            f"{d.get('tenants', 0):,} tenants, {d.get('resources', 0):,} resources"
        ),
    ),
    "report.submitted": kind(
        G.REPORTS,
        lambda d, a, name: Told(f"Report {name} received from a {d.get('source', 'reporter')}"),
    ),
    "report.state_changed": kind(
        G.REPORTS,
        lambda d, a, name: Told(f"Report {name} became {_words(str(d.get('to')))}"),
        key=False,
    ),
    "report.message": kind(
        G.REPORTS,
        lambda d, a, name: Told(
            f"{a if d.get('from_staff') else 'The reporter'} wrote in the thread of {name}"
        ),
    ),
    "report.merged": kind(
        G.REPORTS, lambda d, a, name: Told(f"{a} merged report {name} into the case"), key=False
    ),
    "report.attachments_added": kind(
        G.REPORTS,
        lambda d, a, name: Told(f"{a} attached {len(d.get('files', []))} files to {name}"),
        key=False,
    ),
    "fix.created": kind(
        G.FIXES,
        lambda d, a, _: Told(
            f"{a} added fix {d.get('fix')}: {d.get('service')} {d.get('version')}"
        ),
    ),
    "fix.evidence_added": kind(G.FIXES, _evidence),
    "fix.evidence_overridden": kind(
        G.FIXES,
        lambda d, a, _: Told(
            f"{a} let fix {d.get('fix')} roll out without passing evidence{_reason(d)}", "warn"
        ),
    ),
    "rollout.started": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(
            f"{a} started {_rollout(d).lower()} of {d.get('service')} {d.get('version')} "
            f"({d.get('policy')} policy, {d.get('stages')} stages, {d.get('units')} units)"
        ),
    ),
    "rollout.approved": kind(G.ROLLOUTS, _operation("approved")),
    "rollout.rejected": kind(G.ROLLOUTS, _operation("rejected")),
    "rollout.paused": kind(G.ROLLOUTS, _operation("paused")),
    "rollout.resumed": kind(G.ROLLOUTS, _operation("resumed")),
    "rollout.aborted": kind(G.ROLLOUTS, _operation("aborted")),
    "rollout.rollback_requested": kind(G.ROLLOUTS, _operation("asked to roll back")),
    "rollout.stage_begun": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(f"{_rollout(d)} began {_stage(d)} on {len(d.get('units', []))} units"),
        key=False,
    ),
    "rollout.stage_deployed": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(f"{_rollout(d)} deployed {_stage(d)}; its health is watched"),
        key=False,
    ),
    "rollout.deployed": kind(
        G.ROLLOUTS, lambda d, a, _: Told(f"{_rollout(d)} updated {_units(d)}"), key=False
    ),
    "rollout.rolled_back_units": kind(
        G.ROLLOUTS, lambda d, a, _: Told(f"{_rollout(d)} rolled back {_units(d)}"), key=False
    ),
    "rollout.reconciled": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(f"{_rollout(d)} settled {_units(d)} left mid-change"),
        key=False,
    ),
    "rollout.stage_passed": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(f"{_rollout(d)} passed {_stage(d)}{_after(d)}", "good"),
    ),
    "rollout.stage_failed": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(f"{_rollout(d)} failed {_stage(d)}{_after(d)}{_reason(d)}", "bad"),
    ),
    "rollout.halted": kind(
        G.ROLLOUTS, lambda d, a, _: Told(f"{_rollout(d)} halted{_reason(d)}", "bad")
    ),
    "rollout.alert": kind(
        G.ROLLOUTS, lambda d, a, _: Told(f"{_rollout(d)} called for a person{_reason(d)}", "warn")
    ),
    "rollout.completed": kind(
        G.ROLLOUTS,
        lambda d, a, _: Told(
            f"{_rollout(d)} completed: the fix runs on all {d.get('units')} units", "good"
        ),
    ),
    "rollout.rolled_back": kind(
        G.ROLLOUTS, lambda d, a, _: Told(f"{_rollout(d)} finished rolling back", "warn")
    ),
    "public_text.drafted": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(f"{a} wrote public text version {d.get('version')}: {d.get('title')}"),
    ),
    "public_text.approved": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{a} approved public text version {d.get('version')}")
    ),
    "public_text.rejected": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(
            f"{a} sent public text version {d.get('version')} back{_reason(d, 'comment')}", "warn"
        ),
    ),
    "disclosure.requested": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{a} asked for the case to be disclosed")
    ),
    "disclosure.approved": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(
            f"{a} approved the disclosure"
            + (
                f", public from {str(d['public_from'])[:16].replace('T', ' ')} UTC"
                if d.get("public_from")
                else ""
            ),
            "good",
        ),
    ),
    "disclosure.rejected": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(f"{a} refused the disclosure{_reason(d, 'comment')}", "warn"),
    ),
    "disclosure.embargo_ended": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{a} ended the embargo early{_reason(d)}", "warn")
    ),
    "disclosure.no_cve": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{a} decided the case needs no CVE{_reason(d)}")
    ),
    "disclosure.cve_reserved": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{a} reserved {d.get('cve_id')}")
    ),
    "disclosure.cve_publish_scheduled": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(f"{a} asked for {d.get('cve_id')} to be published when public"),
    ),
    "disclosure.cve_published": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{d.get('cve_id')} was published", "good")
    ),
    "disclosure.cve_recorded": kind(
        G.DISCLOSURE, lambda d, a, _: Told(f"{a} recorded {d.get('cve_id')} as published")
    ),
    "disclosure.cve_publish_cancelled": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(f"Publishing the CVE was called off{_reason(d)}", "bad"),
    ),
    "disclosure.rule_overridden": kind(
        G.DISCLOSURE,
        lambda d, a, _: Told(
            f"{a} overrode {', '.join(d.get('rules', []))} to {d.get('doing')}{_reason(d)}", "bad"
        ),
    ),
    "approval.requested": kind(
        G.CASE,
        lambda d, a, _: Told(f"{a} asked for a second person: {d.get('summary')}"),
        key=False,
    ),
    "approval.approved": kind(
        G.CASE, lambda d, a, _: Told(f"{a} approved {d.get('about')}"), key=False
    ),
    "approval.rejected": kind(
        G.CASE,
        lambda d, a, _: Told(f"{a} rejected {d.get('about')}{_reason(d, 'comment')}"),
        key=False,
    ),
    "approval.withdrawn": kind(
        G.CASE, lambda d, a, _: Told(f"{a} withdrew the request for {d.get('about')}"), key=False
    ),
    "page.triggered": kind(
        G.ONCALL,
        lambda d, a, _: Told(
            f"The on-call was paged ({d.get('urgency')} urgency): {d.get('title')}"
        ),
    ),
    "page.notified": kind(G.ONCALL, lambda d, a, _: Told(f"Paged {_people(d)}"), key=False),
    "page.escalated": kind(
        G.ONCALL,
        lambda d, a, _: Told(f"Not acknowledged: escalated to {_people(d)}", "bad"),
    ),
    "page.acknowledged": kind(
        G.ONCALL, lambda d, a, _: Told(f"{a} acknowledged the page ({d.get('via')})", "good")
    ),
    "page.resolved": kind(G.ONCALL, lambda d, a, _: Told(f"{a} resolved the page"), key=False),
    "variants.root_cause_recorded": kind(
        G.VARIANTS, lambda d, a, _: Told(f"{a} wrote the root cause (CWE-{d.get('cwe_id')})")
    ),
    "variants.improvement_added": kind(
        G.VARIANTS, lambda d, a, _: Told(f"{a} added an improvement: {d.get('action')}"), key=False
    ),
    "variants.improvement_done": kind(
        G.VARIANTS, lambda d, a, _: Told(f"{a} did: {d.get('action')}", "good")
    ),
    "variants.hunt_started": kind(
        G.VARIANTS, lambda d, a, _: Told(f"{a} started {d.get('strategy')} hunt {d.get('hunt')}")
    ),
    "variants.finding_decided": kind(
        G.VARIANTS,
        lambda d, a, _: Told(f"{a} decided a finding of hunt {d.get('hunt')}: {d.get('decision')}"),
    ),
    "variants.linked": kind(
        G.VARIANTS,
        lambda d, a, _: Told(
            f"Linked as a {d.get('relation')} of {d['parent']}"
            if d.get("parent")
            else f"{d.get('child')} linked as a {d.get('relation')} of this case"
        ),
    ),
    "review.started": kind(G.REVIEW, lambda d, a, _: Told(f"{a} started the post-incident review")),
    "review.written": kind(
        G.REVIEW,
        lambda d, a, _: Told(
            f"{a} wrote the review's {', '.join(map(_words, d.get('sections', [])))}"
        ),
        key=False,
    ),
    "review.submitted": kind(G.REVIEW, lambda d, a, _: Told(f"{a} submitted the review")),
    "review.published": kind(
        G.REVIEW, lambda d, a, _: Told(f"{a} approved and published the review", "good")
    ),
    "review.rejected": kind(
        G.REVIEW, lambda d, a, _: Told(f"{a} returned the review to draft{_reason(d, 'comment')}")
    ),
    "review.action_item_added": kind(
        G.REVIEW,
        lambda d, a, _: Told(f"{a} added an action item for {d.get('owner')}: {d.get('title')}"),
    ),
    "review.action_item_done": kind(
        G.REVIEW, lambda d, a, _: Told(f"{a} did: {d.get('title')}", "good")
    ),
    "review.responder_feedback": kind(
        G.REVIEW, lambda d, a, _: Told(f"{a} rated the response {d.get('rating')} of 5"), key=False
    ),
}


def _people(data: dict[str, Any]) -> str:
    told = data.get("notified") or []
    return ", ".join(map(str, told)) if told else "nobody (no one to reach)"
