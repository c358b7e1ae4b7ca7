"""the event log is chained at commit, inside PostgreSQL.

Appending an event used to lock the chain's head row from the append until the transaction
ended, and the transaction ended only when its client sent COMMIT: under load every writer
waited for the one whose web process had not yet got round to it (at 250 submissions a second
most backends sampled were waiting for that row lock). Now an event is written to
``audit_pending`` without a lock, and a constraint trigger deferred to the commit appends it to
the chain (numbered, hashed, the head moved) and removes it: the head is locked only during
the commit itself. Events stay numbered without gaps in commit order, and an event still
commits or rolls back with the change it records.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAIN_FUNCTION = """
CREATE FUNCTION audit_chain_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    at timestamptz := clock_timestamp();
    new_hash text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_chain_head is missing: run `vulnops db upgrade`';
    END IF;
    new_hash := audit_event_hash(
        head_hash, head_seq + 1, NEW.subject, NEW.kind, NEW.actor, NEW.data, at);
    INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash, hash)
    VALUES (head_seq + 1, NEW.subject, NEW.kind, NEW.actor, NEW.data, at, head_hash, new_hash);
    UPDATE audit_chain_head SET seq = head_seq + 1, hash = new_hash WHERE id = 1;
    DELETE FROM audit_pending WHERE id = NEW.id;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_pending_chained AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain_pending();
"""


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
    )
    op.execute(CHAIN_FUNCTION)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_pending_chained ON audit_pending")
    op.execute("DROP FUNCTION audit_chain_pending()")
    op.drop_table("audit_pending")
