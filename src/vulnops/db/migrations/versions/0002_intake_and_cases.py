"""intake and cases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:29:19.430204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES = (
    "'admin', 'responder', 'engineer', 'release_manager', 'communications', 'researcher', "
    "'partner', 'customer'"
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE SEQUENCE report_tracking_seq")
    op.execute("CREATE SEQUENCE case_tracking_seq")
    # array_to_string is only STABLE (in general); over varchar it cannot change, and a
    # generated search column needs an IMMUTABLE function.
    op.execute(
        "CREATE FUNCTION words_of(varchar[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "AS $$ SELECT array_to_string($1, ' ') $$"
    )
    op.drop_constraint(op.f("ck_users_known_role"), "users", type_="check")
    op.create_check_constraint("known_role", "users", f"role IN ({ROLES})")
    op.create_table(
        "outbound_emails",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("about", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
    )
    op.create_index(op.f("ix_outbound_emails_about"), "outbound_emails", ["about"], unique=False)
    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "tracking_id",
            sa.String(length=32),
            server_default=sa.text(
                "'CASE-' || to_char(now(), 'YYYY') || '-' || "
                "lpad(nextval('case_tracking_seq')::text, 6, '0')"
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), server_default="new", nullable=False),
        sa.Column(
            "services", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("responder_id", sa.BigInteger(), nullable=True),
        sa.Column("cvss31_vector", sa.String(length=200), nullable=True),
        sa.Column("cvss31_score", sa.Double(), nullable=True),
        sa.Column("cvss40_vector", sa.String(length=300), nullable=True),
        sa.Column("cvss40_score", sa.Double(), nullable=True),
        sa.Column("impact", sa.String(length=40), nullable=True),
        sa.Column("data_sensitivity", sa.String(length=40), nullable=True),
        sa.Column("rating", sa.String(length=16), nullable=True),
        sa.Column("exploitation", sa.String(length=16), server_default="none", nullable=False),
        sa.Column("automatable", sa.Boolean(), nullable=True),
        sa.Column("technical_impact", sa.String(length=16), nullable=True),
        sa.Column("mission_wellbeing", sa.String(length=16), nullable=True),
        sa.Column("ssvc_decision", sa.String(length=16), nullable=True),
        sa.Column("cwe_id", sa.Integer(), nullable=True),
        sa.Column("publicly_disclosed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("customer_action_required", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mitigated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledge_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triage_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mitigate_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "next_due",
            sa.DateTime(timezone=True),
            sa.Computed(
                "CASE WHEN state IN ('closed', 'rejected') THEN NULL ELSE least(CASE WHEN acknowledged_at IS NULL THEN acknowledge_due END, CASE WHEN triaged_at IS NULL THEN triage_due END, CASE WHEN mitigated_at IS NULL THEN mitigate_due END) END",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "breaches_recorded",
            postgresql.ARRAY(sa.String(length=16)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(tracking_id, '')), 'A') || setweight(to_tsvector('simple', words_of(services)), 'B') || setweight(to_tsvector('english', coalesce(summary, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating IN ('critical', 'important', 'moderate', 'low')",
            name=op.f("ck_cases_known_rating"),
        ),
        sa.CheckConstraint(
            "state IN ('new', 'triaging', 'remediating', 'deploying', 'mitigated', 'notified', 'disclosed', 'closed', 'rejected')",
            name=op.f("ck_cases_known_state"),
        ),
        sa.CheckConstraint("cwe_id IS NULL OR cwe_id > 0", name=op.f("ck_cases_cwe_positive")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_cases_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["responder_id"], ["users.id"], name=op.f("fk_cases_responder_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("tracking_id", name=op.f("uq_cases_tracking_id")),
    )
    op.create_index("ix_cases_next_due", "cases", ["next_due"], unique=False)
    op.create_index("ix_cases_opened", "cases", ["opened_at"], unique=False)
    op.create_index(op.f("ix_cases_owner_id"), "cases", ["owner_id"], unique=False)
    op.create_index("ix_cases_rating_opened", "cases", ["rating", "opened_at"], unique=False)
    op.create_index(op.f("ix_cases_responder_id"), "cases", ["responder_id"], unique=False)
    op.create_index("ix_cases_search", "cases", ["search"], unique=False, postgresql_using="gin")
    op.create_index(
        "ix_cases_services", "cases", ["services"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_cases_state_opened", "cases", ["state", "opened_at"], unique=False)
    op.create_index(
        "ix_cases_title_trgm",
        "cases",
        ["title"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"title": "gist_trgm_ops"},
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "tracking_id",
            sa.String(length=32),
            server_default=sa.text(
                "'VULN-' || to_char(now(), 'YYYY') || '-' || "
                "lpad(nextval('report_tracking_seq')::text, 6, '0')"
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("endpoint", sa.String(length=500), nullable=True),
        sa.Column("reproduction", sa.Text(), server_default="", nullable=False),
        sa.Column("impact", sa.Text(), server_default="", nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=True),
        sa.Column("contact", sa.String(length=320), nullable=True),
        sa.Column("credit_name", sa.String(length=200), nullable=True),
        sa.Column("exercise", sa.String(length=200), nullable=True),
        sa.Column("scanner", sa.String(length=100), nullable=True),
        sa.Column("rule_id", sa.String(length=300), nullable=True),
        sa.Column("fingerprint", sa.String(length=200), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "received_at",
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
        sa.Column("last_staff_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reporter_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(tracking_id, '')), 'A') || setweight(to_tsvector('simple', coalesce(service, '') || ' ' || coalesce(endpoint, '')), 'B') || setweight(to_tsvector('english', coalesce(description, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(state = 'closed') = (close_reason IS NOT NULL)",
            name=op.f("ck_reports_closed_with_reason"),
        ),
        sa.CheckConstraint(
            "close_reason IS NULL OR close_reason IN ('duplicate', 'not_applicable', 'out_of_scope', 'spam', 'wont_fix')",
            name=op.f("ck_reports_known_close_reason"),
        ),
        sa.CheckConstraint(
            "source IN ('researcher', 'partner', 'internal', 'scanner')",
            name=op.f("ck_reports_known_source"),
        ),
        sa.CheckConstraint(
            "state IN ('new', 'needs_info', 'triaged', 'closed')",
            name=op.f("ck_reports_known_state"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reports_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_reports_reporter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("tracking_id", name=op.f("uq_reports_tracking_id")),
    )
    op.create_index(op.f("ix_reports_case_id"), "reports", ["case_id"], unique=False)
    op.create_index("ix_reports_received", "reports", ["received_at"], unique=False)
    op.create_index(
        "ix_reports_reporter_received", "reports", ["reporter_id", "received_at"], unique=False
    )
    op.create_index(
        "ix_reports_search", "reports", ["search"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_reports_service_endpoint", "reports", ["service", "endpoint"], unique=False)
    op.create_index("ix_reports_state_received", "reports", ["state", "received_at"], unique=False)
    op.create_index(
        "ix_reports_service_title_trgm",
        "reports",
        ["service", "title"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"title": "gist_trgm_ops"},
    )
    op.create_index(
        "uq_reports_scanner_fingerprint",
        "reports",
        ["scanner", "fingerprint"],
        unique=True,
        postgresql_where="fingerprint IS NOT NULL",
    )
    op.create_table(
        "report_attachments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
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
            ["report_id"], ["reports.id"], name=op.f("fk_report_attachments_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_report_attachments_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_attachments")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_report_attachments_storage_name")),
    )
    op.create_index(
        op.f("ix_report_attachments_report_id"), "report_attachments", ["report_id"], unique=False
    )
    op.create_table(
        "report_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_report_messages_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_messages_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_messages")),
    )
    op.create_index(
        op.f("ix_report_messages_report_id"), "report_messages", ["report_id"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("restore a backup instead of downgrading")
