"""a report has a severity of its own: the one its scanner gave (SARIF).

Scanner findings became reports without the severity their tool gave them: Trivy's
``security-severity``, a vendor's priority and the result's level were read for the description
at most. The column holds the finding's severity on one scale (critical, high, medium, low,
none); reports from people have none until someone says.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("severity", sa.String(length=10), nullable=True))
    op.create_check_constraint(
        "known_severity",
        "reports",
        "severity IS NULL OR severity IN ('critical', 'high', 'medium', 'low', 'none')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_reports_known_severity", "reports", type_="check")
    op.drop_column("reports", "severity")
