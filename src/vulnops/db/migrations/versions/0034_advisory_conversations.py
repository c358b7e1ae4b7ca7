"""A conversation per advisory and tenant: the messages between the tenant's administrators
and the response team, their attachments, and each conversation's waiting question and its
answer time; the tenants' marks on their affected resources (checked, or needs help).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 23:14:31.143260
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisory_conversations",
        sa.Column("advisory_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_due", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(waiting_since IS NULL) = (answer_due IS NULL)",
            name=op.f("ck_advisory_conversations_waiting_has_due"),
        ),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_conversations_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_advisory_conversations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("advisory_id", "tenant_id", name=op.f("pk_advisory_conversations")),
    )
    op.create_index(
        "ix_advisory_conversations_waiting",
        "advisory_conversations",
        ["answer_due"],
        unique=False,
        postgresql_where=sa.text("waiting_since IS NOT NULL"),
    )
    op.create_table(
        "advisory_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("advisory_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("length(btrim(body)) > 0", name=op.f("ck_advisory_messages_not_empty")),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_messages_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_advisory_messages_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_advisory_messages_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_messages")),
    )
    op.create_index(
        "ix_advisory_messages_thread",
        "advisory_messages",
        ["advisory_id", "tenant_id", "id"],
        unique=False,
    )

    op.create_table(
        "advisory_attachments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("advisory_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_name", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_attachments_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["advisory_messages.id"],
            name=op.f("fk_advisory_attachments_message_id_advisory_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_advisory_attachments_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_advisory_attachments_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_attachments")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_advisory_attachments_storage_name")),
    )
    op.create_index(
        "ix_advisory_attachments_conversation",
        "advisory_attachments",
        ["advisory_id", "tenant_id"],
        unique=False,
        postgresql_include=["size"],
    )
    op.create_index(
        op.f("ix_advisory_attachments_message_id"),
        "advisory_attachments",
        ["message_id"],
        unique=False,
    )
    op.create_index(
        "ix_advisory_attachments_uploaded_by_created_at",
        "advisory_attachments",
        ["uploaded_by", "created_at"],
        unique=False,
        postgresql_include=["size"],
    )

    op.create_table(
        "advisory_resource_marks",
        sa.Column("advisory_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("resource_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("marked_by", sa.String(length=320), nullable=False),
        sa.Column(
            "marked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('checked', 'needs_help')",
            name=op.f("ck_advisory_resource_marks_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_resource_marks_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_advisory_resource_marks_resource_id_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_advisory_resource_marks_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint(
            "advisory_id", "tenant_id", "resource_id", name=op.f("pk_advisory_resource_marks")
        ),
    )


def downgrade() -> None:
    op.drop_table("advisory_resource_marks")
    op.drop_table("advisory_attachments")
    op.drop_index("ix_advisory_messages_thread", table_name="advisory_messages")
    op.drop_table("advisory_messages")
    op.drop_index(
        "ix_advisory_conversations_waiting",
        table_name="advisory_conversations",
        postgresql_where=sa.text("waiting_since IS NOT NULL"),
    )
    op.drop_table("advisory_conversations")
