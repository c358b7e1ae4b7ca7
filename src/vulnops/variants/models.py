"""Tables of root causes, case links, variant hunts, their findings, weakness classes and guards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column

RELATIONS = ("variant", "bypass", "regression")
STRATEGIES = ("code", "sarif", "components", "configuration", "history")
HUNT_STATES = ("queued", "running", "finished", "failed")
LOCATION_STATES = ("pending", "scanned", "missing", "failed")
FINDING_STATES = ("candidate", "variant", "duplicate", "not_a_problem")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class RootCause(Base):
    """A case's root-cause analysis (Project Zero's headings): the weakness, the change that
    introduced it, the cause, how it was found and could have been found earlier, and ideas to
    detect it; the structural improvements are actions of their own."""

    __tablename__ = "root_causes"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    cwe_id: Mapped[int | None]
    introduced_repository: Mapped[str] = mapped_column(String(1000), server_default="")
    introduced_ref: Mapped[str] = mapped_column(String(200), server_default="")
    cause: Mapped[str] = mapped_column(Text, server_default="")
    found_how: Mapped[str] = mapped_column(Text, server_default="")
    found_earlier: Mapped[str] = mapped_column(Text, server_default="")
    detection_ideas: Mapped[str] = mapped_column(Text, server_default="")
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("cwe_id IS NULL OR cwe_id > 0", name="cwe_positive"),)


class Improvement(Base):
    """A structural improvement: an action that kills the bug class or breaks the exploit flow,
    with an owner and a due date, tracked until done."""

    __tablename__ = "structural_improvements"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due: Mapped[date]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(320))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()


class CaseLink(Base):
    """A case that came from another: a variant of it, a bypass of its fix, or a regression."""

    __tablename__ = "case_links"

    child_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(_known("relation", RELATIONS), name="known_relation"),
        CheckConstraint("child_id <> parent_id", name="not_itself"),
    )


class Hunt(Base):
    """A search for variants of a case's bug by one strategy, run as a durable job."""

    __tablename__ = "hunts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    strategy: Mapped[str] = mapped_column(String(16))
    # The strategy's question: a Semgrep rule, a SARIF log's findings, a package and range, a
    # tag predicate, a weakness.
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(16), server_default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_known("strategy", STRATEGIES), name="known_strategy"),
        CheckConstraint(_known("state", HUNT_STATES), name="known_state"),
    )


class HuntLocation(Base):
    """One repository a code hunt scans; the job takes the pending ones, so a crashed run goes
    on where it stopped."""

    __tablename__ = "hunt_locations"

    hunt_id: Mapped[int] = mapped_column(
        ForeignKey("hunts.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    location: Mapped[str] = mapped_column(String(1000), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), server_default="pending")
    message: Mapped[str] = mapped_column(Text, server_default="")
    findings: Mapped[int] = mapped_column(server_default="0")

    __table_args__ = (CheckConstraint(_known("state", LOCATION_STATES), name="known_state"),)


class Finding(Base):
    """A candidate variant a hunt found, until a person decides what it is."""

    __tablename__ = "hunt_findings"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    hunt_id: Mapped[int] = mapped_column(ForeignKey("hunts.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    # An earlier case the finding is (a history hunt's findings): hidden with that case.
    about_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    title: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text, server_default="")
    rule_id: Mapped[str] = mapped_column(String(300), server_default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    state: Mapped[str] = mapped_column(String(16), server_default="candidate")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("hunt_id", "fingerprint"),
        CheckConstraint(_known("state", FINDING_STATES), name="known_state"),
        Index("ix_hunt_findings_hunt_state", "hunt_id", "state", "id"),
    )


class WeaknessClass(Base):
    """A class (a CWE across services) someone closed: every variant was fixed and a structural
    improvement done. The class's state is derived: closed while each of its cases stays fixed;
    a regression a guard finds reopens it (until it is closed again, which moves ``closed_at``)."""

    __tablename__ = "weakness_classes"

    cwe_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    closed_by: Mapped[str] = mapped_column(String(320))
    closed_at: Mapped[datetime] = created_at_column()
    reason: Mapped[str] = mapped_column(Text, server_default="")


class Guard(Base):
    """A closed class's guard: one hunt's rule or query, re-run when a service's new version or
    SBOM arrives and nightly; a match opens a regression case."""

    __tablename__ = "class_guards"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    cwe_id: Mapped[int] = mapped_column(
        ForeignKey("weakness_classes.cwe_id", ondelete="CASCADE"), index=True
    )
    hunt_id: Mapped[int] = mapped_column(ForeignKey("hunts.id"), unique=True)
    # The newest SBOM import it has checked (the periodic job takes the ones after it).
    checked_through: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]


class GuardMatch(Base):
    """What a guard found, once: the same match never opens a second case."""

    __tablename__ = "guard_matches"

    guard_id: Mapped[int] = mapped_column(
        ForeignKey("class_guards.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    found_at: Mapped[datetime] = created_at_column()
