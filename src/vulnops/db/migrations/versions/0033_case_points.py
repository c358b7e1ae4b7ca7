"""The program metrics' read model: a row of points per case, derived from the facts, and the
queue of cases whose facts changed since. Every table a point comes from marks the cases it
touched stale, in one statement-level trigger per change (set-based: a rollout step that
deploys a thousand units appends one row per case, not a thousand); every case starts stale,
so the first refresh derives them all.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 22:50:26.468917
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# For each table a case's points come from, the cases a set of its rows (``%1$s``) touches. A
# milestone also touches the cases it is a variant of (their last variant's closing).
_TOUCHED = {
    "case_milestones": (
        "SELECT case_id FROM %1$s UNION "
        "SELECT l.parent_id FROM case_links l JOIN %1$s t ON l.child_id = t.case_id"
    ),
    "reports": "SELECT DISTINCT case_id FROM %1$s WHERE case_id IS NOT NULL",
    "rollouts": "SELECT DISTINCT case_id FROM %1$s",
    "rollout_units": (
        "SELECT DISTINCT o.case_id FROM rollouts o JOIN %1$s t ON o.id = t.rollout_id"
    ),
    "case_links": "SELECT DISTINCT parent_id FROM %1$s",
}

_MARK = """
CREATE FUNCTION case_points_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        EXECUTE 'INSERT INTO case_points_stale (case_id) ' || format(TG_ARGV[0], 'new_rows');
    END IF;
    IF TG_OP <> 'INSERT' THEN
        EXECUTE 'INSERT INTO case_points_stale (case_id) ' || format(TG_ARGV[0], 'old_rows');
    END IF;
    RETURN NULL;
END
$$
"""

_TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "case_points_stale",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_points_stale")),
    )
    op.create_table(
        "case_points",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("reported", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triaged", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fix_ready", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_unit", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mitigated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customers_notified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_variant_closed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("rollouts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rollouts_finished", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rollouts_rolled_back", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rollouts_halted", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_points_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_points")),
    )
    op.create_index(op.f("ix_case_points_reported"), "case_points", ["reported"], unique=False)
    op.execute(_MARK)
    for table, touched in _TOUCHED.items():
        for event, transitions in _TRANSITIONS.items():
            op.execute(
                f"CREATE TRIGGER {table}_points_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {transitions} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION case_points_mark_stale('{touched}')"
            )
    op.execute("INSERT INTO case_points_stale (case_id) SELECT id FROM cases")


def downgrade() -> None:
    for table in _TOUCHED:
        for event in _TRANSITIONS:
            op.execute(f"DROP TRIGGER {table}_points_{event} ON {table}")
    op.execute("DROP FUNCTION case_points_mark_stale()")
    op.drop_index(op.f("ix_case_points_reported"), table_name="case_points")
    op.drop_table("case_points")
    op.drop_table("case_points_stale")
