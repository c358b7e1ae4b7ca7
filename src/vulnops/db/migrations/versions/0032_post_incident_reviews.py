"""Post-incident reviews: one per case, its action items and its responders' feedback; the
approvals learn the review step (its publication is approved by a second person); an index
finds a rollout's first deployed unit for the program metrics.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 02:41:22.422573
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_STEPS = "'advisory', 'public_text', 'disclosure', 'expedited_rollout', 'bounty_award'"

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _steps(steps: str) -> None:
    op.drop_constraint(op.f("ck_approvals_known_step"), "approvals", type_="check")
    op.create_check_constraint(op.f("ck_approvals_known_step"), "approvals", f"step IN ({steps})")


def upgrade() -> None:
    _steps(_STEPS + ", 'review'")
    op.create_index("ix_rollout_units_deployed", "rollout_units", ["rollout_id", "deployed_at"])
    op.create_table(
        "reviews",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("impact", sa.Text(), server_default="", nullable=False),
        sa.Column("went_well", sa.Text(), server_default="", nullable=False),
        sa.Column("went_wrong", sa.Text(), server_default="", nullable=False),
        sa.Column("lucky", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "authors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("started_by", sa.String(length=320), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.String(length=320), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_comment", sa.Text(), nullable=True),
        sa.Column("published_by", sa.String(length=320), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tenant_hours", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'in_review', 'published')", name=op.f("ck_reviews_known_state")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reviews_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_reviews")),
    )
    op.create_index(
        "ix_reviews_state_published", "reviews", ["state", "published_at"], unique=False
    )
    op.create_table(
        "review_action_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tracker", sa.String(length=500), server_default="", nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=320), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["reviews.case_id"], name=op.f("fk_review_action_items_case_id_reviews")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_review_action_items_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_action_items")),
    )
    op.create_index(
        op.f("ix_review_action_items_case_id"), "review_action_items", ["case_id"], unique=False
    )
    op.create_index(
        "ix_review_action_items_open",
        "review_action_items",
        ["owner_id", "due"],
        unique=False,
        postgresql_where=sa.text("done_at IS NULL"),
    )
    op.create_table(
        "review_responder_feedback",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "asked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5",
            name=op.f("ck_review_responder_feedback_rating_range"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["reviews.case_id"],
            name=op.f("fk_review_responder_feedback_case_id_reviews"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_review_responder_feedback_user_id_users")
        ),
        sa.PrimaryKeyConstraint("case_id", "user_id", name=op.f("pk_review_responder_feedback")),
    )


def downgrade() -> None:
    op.drop_index("ix_rollout_units_deployed", table_name="rollout_units")
    op.execute("DELETE FROM approvals WHERE step = 'review'")
    _steps(_STEPS)
    op.drop_table("review_responder_feedback")
    op.drop_index(
        "ix_review_action_items_open",
        table_name="review_action_items",
        postgresql_where=sa.text("done_at IS NULL"),
    )
    op.drop_index(op.f("ix_review_action_items_case_id"), table_name="review_action_items")
    op.drop_table("review_action_items")
    op.drop_index("ix_reviews_state_published", table_name="reviews")
    op.drop_table("reviews")
