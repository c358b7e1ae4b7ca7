from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base, created_at_column


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_team: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Where its source is: absolute paths on the machines that run variant hunts (checkouts or
    # clones the operator keeps up to date).
    repositories: Mapped[list[str]] = mapped_column(
        ARRAY(String(1000)), default=list, server_default="{}"
    )
    created_at: Mapped[datetime] = created_at_column()


class ServiceVersion(Base):
    """A released version of a service, with the CycloneDX SBOM of what it is built from."""

    __tablename__ = "service_versions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    spec_version: Mapped[str] = mapped_column(String(10))
    sbom: Mapped[dict[str, Any]] = mapped_column(JSONB)
    components_without_purl: Mapped[int] = mapped_column(default=0, server_default="0")
    imported_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("service_id", "version"),)


class Component(Base):
    """One package (by package URL) in one service version's SBOM."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    service_version_id: Mapped[int] = mapped_column(
        ForeignKey("service_versions.id", ondelete="CASCADE"), index=True
    )
    purl: Mapped[str] = mapped_column(String(2000))
    purl_type: Mapped[str] = mapped_column(String(50))
    namespace: Mapped[str] = mapped_column(String(500), default="", server_default="")
    name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str] = mapped_column(String(200), default="", server_default="")

    __table_args__ = (Index("ix_components_package", "purl_type", "namespace", "name", "version"),)


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    geography: Mapped[str] = mapped_column(String(100), default="", server_default="")
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    canary: Mapped[bool] = mapped_column(default=False, server_default="false")
    traffic_weight: Mapped[float] = mapped_column(default=1.0, server_default="1")

    __table_args__ = (
        CheckConstraint("pair_id IS NULL OR pair_id <> id", name="not_own_pair"),
        CheckConstraint("traffic_weight >= 0", name="weight_not_negative"),
    )


class DeploymentUnit(Base):
    """One service in one region's scale unit: what a rollout deploys to, one at a time."""

    __tablename__ = "deployment_units"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    scale_unit: Mapped[str] = mapped_column(String(100))
    current_version: Mapped[str] = mapped_column(String(100))
    traffic_share: Mapped[float]
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list, server_default="{}")

    __table_args__ = (
        UniqueConstraint("service_id", "region_id", "scale_unit"),
        Index("ix_deployment_units_service_version", "service_id", "current_version"),
        CheckConstraint("traffic_share > 0 AND traffic_share <= 1", name="share_in_range"),
    )


class Resource(Base):
    """A tenant's resource, served by one deployment unit, with its configuration tags."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("deployment_units.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(300))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list, server_default="{}")

    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)


class BlastRadius(Base):
    """What a case touches, computed from its criteria and kept with the case."""

    __tablename__ = "blast_radii"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONB)
    units: Mapped[int]
    tenants: Mapped[int]
    resources: Mapped[int]
    by_region: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    by_service: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    service_versions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    computed_by: Mapped[str] = mapped_column(String(320))
    computed_at: Mapped[datetime] = created_at_column()


class BlastUnit(Base):
    __tablename__ = "blast_units"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("blast_radii.case_id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("deployment_units.id"), primary_key=True)


class BlastTenant(Base):
    __tablename__ = "blast_tenants"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("blast_radii.case_id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    resources: Mapped[int]
