"""What each kind of event about a case's customer advisory says (pure; part of
:data:`vulnops.audit.kinds.KINDS`)."""

from __future__ import annotations

from vulnops.audit.telling import Group, Kind, Told, kind
from vulnops.audit.telling import reason as _reason

G = Group
ADVISORY_KINDS: dict[str, Kind] = {
    "advisory.drafted": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} drafted advisory version {d.get('version')}: {d.get('title')}"),
    ),
    "advisory.approved": kind(
        G.ADVISORY, lambda d, a, _: Told(f"{a} approved advisory version {d.get('version')}")
    ),
    "advisory.rejected": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} sent advisory version {d.get('version')} back{_reason(d, 'comment')}", "warn"
        ),
    ),
    "advisory.sent": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} sent advisory version {d.get('version')} to {d.get('recipients', 0):,} tenants",
            "good",
        ),
    ),
    "advisory.acknowledged": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} acknowledged advisory version {d.get('version')}"),
        key=False,
    ),
    "advisory.feedback": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} rated how we told them: {d.get('rating')} of 5"),
        key=False,
    ),
    "advisory.asked": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} asked the team about the advisory"),
        key=False,
    ),
    "advisory.answered": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} answered a customer about the advisory"),
        key=False,
    ),
    "advisory.resource_marked": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} marked a resource "
            + ("checked" if d.get("status") == "checked" else "as needing help")
        ),
        key=False,
    ),
    "advisory.attachments_added": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} attached {len(d.get('files') or [])} files to a message"),
        key=False,
    ),
    "advisory.translated": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} translated advisory version {d.get('version')} into {d.get('language')}"
        ),
        key=False,
    ),
    "advisory.translation_approved": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} approved the {d.get('language')} translation of advisory version "
            f"{d.get('version')}"
        ),
        key=False,
    ),
    "advisory.translation_rejected": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} sent the {d.get('language')} translation back{_reason(d, 'comment')}", "warn"
        ),
        key=False,
    ),
    "advisory.translation_removed": kind(
        G.ADVISORY,
        lambda d, a, _: Told(f"{a} removed the {d.get('language')} translation"),
        key=False,
    ),
    "advisory.withdrawn": kind(
        G.ADVISORY,
        lambda d, a, _: Told(
            f"{a} withdrew the advisory{_reason(d)} ({d.get('cancelled', 0):,} messages "
            "not yet delivered were cancelled)",
            "bad",
        ),
    ),
}
