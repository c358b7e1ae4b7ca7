from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.db.base import Base


class SimDeployment(Base):
    """The simulated fleet's history: from ``since``, the unit ran ``version``."""

    __tablename__ = "sim_deployments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("deployment_units.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    since: Mapped[datetime]
    key: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_sim_deployments_unit_since", "unit_id", "since"),
        UniqueConstraint("unit_id", "key"),
    )


class SimFault(Base):
    """A simulated release that misbehaves (model.Fault, as JSON)."""

    __tablename__ = "sim_faults"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(100), primary_key=True)
    fault: Mapped[dict[str, Any]] = mapped_column(JSONB)
