"""alert sources: detection systems that page the on-call, and reports from them.

A source (PagerDuty Events API v2 or Alertmanager's webhook) is known by the SHA-256 of its
integration key, never the key; its events in the current minute are counted for the rate
limit. A report may now come from ``detection``.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 22:43:11.439061
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_sources",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_events", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('pagerduty', 'alertmanager')", name=op.f("ck_alert_sources_known_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_sources")),
        sa.UniqueConstraint("key", name=op.f("uq_alert_sources_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_alert_sources_key_hash")),
    )
    op.drop_constraint(op.f("ck_reports_known_source"), "reports", type_="check")
    op.create_check_constraint(
        "known_source",
        "reports",
        "source IN ('researcher', 'partner', 'internal', 'scanner', 'detection')",
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM pages WHERE report_id IN (SELECT id FROM reports WHERE source = 'detection')"
    )
    op.execute("DELETE FROM reports WHERE source = 'detection'")
    op.drop_constraint(op.f("ck_reports_known_source"), "reports", type_="check")
    op.create_check_constraint(
        "known_source", "reports", "source IN ('researcher', 'partner', 'internal', 'scanner')"
    )
    op.drop_table("alert_sources")
