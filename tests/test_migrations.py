"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db import embedded, migrate
from vulnops.db.base import Base
from vulnops.db.database import Database, sqlalchemy_url
from vulnops.db.migrations_filter import include_name


def test_models_and_migrations_agree(conninfo: str) -> None:
    engine = create_engine(sqlalchemy_url(conninfo))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    # PostgreSQL gives expression defaults back rewritten (casts, parentheses), so text never
    # matches; those (tracking numbers, webhook secrets) are checked by behaviour in their tests.
    expression_defaults = {
        ("cases", "tracking_id"),
        ("reports", "tracking_id"),
        ("tenants", "webhook_secret"),
    }
    remaining = [
        diff
        for diff in differences
        if not (
            isinstance(diff, list)
            and diff[0][0] == "modify_default"
            and (diff[0][2], diff[0][3]) in expression_defaults
        )
    ]
    assert remaining == []


async def test_existing_cases_get_their_milestones_and_derived_state(server_url: str) -> None:
    """A database at revision 0006 with cases at every stage (moved by hand, as they were then)
    is upgraded: each case's milestones come from what was recorded, its state is derived from
    them, its reports follow it, a disclosed case keeps its text, drafts wait as approvals."""
    url = embedded.ensure_database(server_url, f"vulnops_migrate_{secrets.token_hex(4)}")
    try:
        await asyncio.to_thread(migrate.upgrade, url, "0006")
        database = Database(url, pool_size=1)
        async with database.session() as session:
            await _legacy_cases(session)
            await session.commit()
        await asyncio.to_thread(migrate.upgrade, url)
        async with database.session() as session:
            states = dict((await session.execute(text("SELECT title, state FROM cases"))).all())
            reached = {
                title: set(found)
                for title, found in (
                    await session.execute(
                        text(
                            "SELECT c.title, array_agg(m.milestone) FROM cases c "
                            "JOIN case_milestones m ON m.case_id = c.id GROUP BY c.title"
                        )
                    )
                ).all()
            }
            actor = await session.scalar(
                text(
                    "SELECT m.actor FROM case_milestones m JOIN cases c ON c.id = m.case_id "
                    "WHERE c.title = 'told' AND m.milestone = 'customers_notified'"
                )
            )
            report = await session.scalar(text("SELECT state FROM reports"))
            texts = (
                await session.execute(text("SELECT title, status FROM public_texts ORDER BY id"))
            ).all()
            waiting = (
                await session.execute(text("SELECT step, status FROM approvals ORDER BY step"))
            ).all()
        await database.dispose()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(url.rsplit("/", 1)[-1])
                )
            )
    assert states == {
        "acked": "triaging",
        "told": "notified",
        "public": "disclosed",
        "done": "closed",
        "fresh": "new",
        # Disclosed by hand before milestones, but under embargo: not public yet.
        "embargoed": "mitigated",
    }
    assert reached["public"] == {
        "reported",
        "acknowledged",
        "triaged",
        "mitigated",
        "customers_notified",
        "disclosure_approved",
        "public",
        "cve_published",
    }
    assert reached["done"] == {"reported", "acknowledged", "triaged", "mitigated", "closed"}
    assert actor == "comms@example.com"
    assert report == "published"
    # The public case keeps its (public) text; the embargoed one's waits for a second person.
    assert sorted(texts) == [("embargoed", "draft"), ("public", "approved")]
    assert waiting == [("advisory", "pending"), ("public_text", "pending")]


# An event as the log took it at 0006: chained in the statement that appends it.
_LEGACY_APPEND = text(
    """
    WITH p AS (
        SELECT CAST(:subject AS text) AS subject, CAST(:kind AS text) AS kind,
               CAST(:actor AS text) AS actor, CAST(:data AS jsonb) AS data
    ), head AS (SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE),
    ins AS (
        INSERT INTO audit_events (seq, subject, kind, actor, data, occurred_at, prev_hash, hash)
        SELECT head.seq + 1, p.subject, p.kind, p.actor, p.data, now(), head.hash,
               audit_event_hash(head.hash, head.seq + 1, p.subject, p.kind, p.actor, p.data,
                                now())
        FROM head, p RETURNING seq, hash
    )
    UPDATE audit_chain_head SET seq = ins.seq, hash = ins.hash FROM ins
    WHERE audit_chain_head.id = 1
    """
)


async def _legacy_event(
    session: AsyncSession, *, subject: str, kind: str, actor: str, data: object = None
) -> None:
    await session.execute(
        _LEGACY_APPEND,
        {"subject": subject, "kind": kind, "actor": actor, "data": json.dumps(data or {})},
    )


async def _legacy_cases(session: AsyncSession) -> None:
    """Cases as revision 0006 kept them: a state set by hand, the deadline columns, events."""
    now = datetime.now(UTC)
    day = timedelta(days=1)
    cases = {
        "acked": ("triaging", now - 3 * day, None, None, None),
        "told": ("notified", now - 5 * day, now - 4 * day, now - 3 * day, None),
        "public": ("disclosed", now - 9 * day, now - 8 * day, now - 6 * day, None),
        "done": ("closed", now - 9 * day, now - 8 * day, now - 6 * day, now - 5 * day),
        "embargoed": ("disclosed", now - 9 * day, now - 8 * day, now - 6 * day, None),
        "fresh": ("new", None, None, None, None),
    }
    ids = {}
    for title, (state, acknowledged, triaged, mitigated, closed) in cases.items():
        ids[title] = await session.scalar(
            text(
                "INSERT INTO cases (title, state, started_at, acknowledged_at, triaged_at, "
                "mitigated_at, closed_at, breaches_recorded) VALUES (:t, :s, :start, :a, :tr, "
                ":m, :c, '{}') RETURNING id"
            ),
            {
                "t": title,
                "s": state,
                "start": now - 10 * day,
                "a": acknowledged,
                "tr": triaged,
                "m": mitigated,
                "c": closed,
            },
        )
        await _legacy_event(
            session, subject=f"case:{ids[title]}", kind="case.opened", actor="responder@x"
        )
    for to, who in (("mitigated", "engineer@example.com"), ("notified", "comms@example.com")):
        await _legacy_event(
            session,
            subject=f"case:{ids['told']}",
            kind="case.state_changed",
            actor=who,
            data={"from": "x", "to": to, "reason": None},
        )
    await _legacy_event(
        session,
        subject=f"case:{ids['done']}",
        kind="case.state_changed",
        actor="responder@x",
        data={"from": "mitigated", "to": "closed", "reason": "fixed"},
    )
    advisory = await session.scalar(
        text("INSERT INTO advisories (case_id, created_by) VALUES (:c, 'w@x') RETURNING id"),
        {"c": ids["public"]},
    )
    fresh_advisory = await session.scalar(
        text("INSERT INTO advisories (case_id, created_by) VALUES (:c, 'w@x') RETURNING id"),
        {"c": ids["fresh"]},
    )
    for advisory_id, status, sent in (
        (advisory, "sent", now - 7 * day),
        (fresh_advisory, "draft", None),
    ):
        await session.execute(
            text(
                "INSERT INTO advisory_versions (advisory_id, number, title, summary, body, "
                "action_required, exposed_since, status, created_by, sent_by, sent_at) VALUES "
                "(:a, 1, 'v1', 's', 'b', false, :e, :st, 'w@x', :by, :sent)"
            ),
            {
                "a": advisory_id,
                "e": now - 20 * day,
                "st": status,
                "by": "c@x" if sent else None,
                "sent": sent,
            },
        )
    await session.execute(
        text(
            "INSERT INTO disclosures (case_id, cve_id, cve_reserved_at, cve_published_at, "
            "public_from, disclosed_at, disclosed_by) VALUES (:c, 'CVE-2026-1111', :d, :d, :d, "
            ":d, 'comms@x')"
        ),
        {"c": ids["public"], "d": now - 6 * day},
    )
    await session.execute(
        text(
            "INSERT INTO disclosures (case_id, public_from, disclosed_at, disclosed_by) "
            "VALUES (:c, :later, :d, 'comms@x')"
        ),
        {"c": ids["embargoed"], "d": now - day, "later": now + 5 * day},
    )
    await session.execute(
        text(
            "INSERT INTO reports (source, state, title, description, case_id) "
            "VALUES ('researcher', 'triaged', 'r', 'd', :c)"
        ),
        {"c": ids["public"]},
    )
