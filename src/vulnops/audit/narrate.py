"""A case's event log told as sentences (pure): "Rollout #3 passed stage 1 (pilot, ap-west-2)
after 42 min". What each kind of event says is in ``kinds``; the key events tell the story, the
details (each batch of units updated, an approval's request beside the decision it led to) are
one click away, as is every event's raw record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from vulnops.audit.kinds import KINDS
from vulnops.audit.telling import Group, Told


class Event(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True)
class Line:
    seq: int
    at: datetime
    group: Group
    key: bool
    sentence: str
    tone: str  # "bad", "warn", "good" or ""
    kind: str
    actor: str
    subject: str
    data: dict[str, Any]

    @property
    def day(self) -> date:
        return self.at.date()


def kinds_shown(group: Group | None, *, details: bool) -> list[str] | None:
    """The event kinds a timeline filter shows (None: every event, known or not)."""
    if group is None and details:
        return None
    return sorted(
        name
        for name, kind in KINDS.items()
        if (group is None or kind.group is group) and (details or kind.key)
    )


def narrate(events: Sequence[Event], *, names: Mapping[str, str]) -> list[Line]:
    """Each event as a sentence; ``names`` say how to call a subject (``report:7`` ->
    ``VULN-2026-000007``)."""
    lines = []
    for event in events:
        kind = KINDS.get(event.kind)
        data = {**event.data, "at": event.data.get("at") or event.occurred_at.isoformat()}
        name = names.get(event.subject, event.subject)
        if kind is None:
            told, group, key = Told(f"{event.kind} by {event.actor}"), Group.CASE, False
        else:
            told, group, key = kind.tell(data, event.actor, name), kind.group, kind.key
        lines.append(
            Line(
                seq=event.seq,
                at=event.occurred_at,
                group=group,
                key=key,
                sentence=told.sentence,
                tone=told.tone,
                kind=event.kind,
                actor=event.actor,
                subject=event.subject,
                data=event.data,
            )
        )
    return lines
