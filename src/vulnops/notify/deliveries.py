"""The delivery records: created set-based when a version is sent, leased by jobs in batches,
their outcomes written back in one statement per batch, each change kept as an event.

Leases, not row locks held over the network: a job takes a batch (``lease_until`` and a token)
and commits at once, sends, then writes the outcomes where its token still holds. A worker that
dies leaves leases that expire; the deliveries are then taken again (at least once; the message
id stays the same, so a receiver drops a repeat).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.notify.channels import Outcome, Outgoing
from vulnops.notify.retry import RetryPolicy

CHANNELS = ("email", "webhook")  # the portal needs no delivery
ACTIVE = ("pending", "retrying")

# The translation of version {version} a reader of language {language} gets: its own tag first,
# then its primary language, then another region of it (fr-CA, fr, fr-FR); among {statuses}.
# The one rule, for the deliveries and for the staff's preview.
PICK_TRANSLATION = """
SELECT tr.language FROM advisory_translations tr
WHERE tr.version_id = {version} AND tr.status IN ({statuses})
  AND split_part(lower(tr.language), '-', 1) = split_part(lower({language}), '-', 1)
ORDER BY lower(tr.language) = lower({language}) DESC,
         lower(tr.language) = split_part(lower({language}), '-', 1) DESC, tr.language
LIMIT 1
"""

# One statement for the whole audience: email and webhook where the tenant has such a contact,
# and an undeliverable email record for a tenant with neither (or when this installation sends
# no email). The portal needs no record: the audience snapshot is what it shows. Each carries
# the approved translation in the tenant's language, else the original (NULL).
_CREATE = f"""
INSERT INTO deliveries (version_id, tenant_id, channel, status, last_error, language)
SELECT :version_id, r.tenant_id, x.channel, x.status, x.error, pick.language
FROM advisory_recipients r
JOIN tenants tn ON tn.id = r.tenant_id
LEFT JOIN LATERAL ({
    PICK_TRANSLATION.format(version=":version_id", language="tn.language", statuses="'approved'")
}) pick ON true
LEFT JOIN (
    SELECT tenant_id, bool_or(channel = 'email') AS email, bool_or(channel = 'webhook') AS webhook
    FROM tenant_contacts GROUP BY tenant_id
) has ON has.tenant_id = r.tenant_id
CROSS JOIN LATERAL (
    SELECT 'email' AS channel, 'pending' AS status, NULL AS error
        WHERE has.email AND :email_enabled
    UNION ALL SELECT 'email', 'undeliverable', 'email is not configured (VULNOPS_SMTP_HOST)'
        WHERE has.email AND NOT :email_enabled
    UNION ALL SELECT 'webhook', 'pending', NULL WHERE has.webhook
    UNION ALL SELECT 'email', 'undeliverable', 'the tenant has no email or webhook contact'
        WHERE has.tenant_id IS NULL
) x
WHERE r.advisory_id = :advisory_id
"""  # noqa: S608 - built from this module's constants

_CLAIM = """
WITH picked AS (
    SELECT id FROM deliveries
    WHERE channel = :channel AND status IN ('pending', 'retrying') AND next_attempt_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED
), leased AS (
    UPDATE deliveries d
    SET lease_until = now() + make_interval(secs => :lease), lease_token = :token
    FROM picked WHERE d.id = picked.id
    RETURNING d.id, d.version_id, d.tenant_id, d.reminder, d.attempts, d.language
)
SELECT l.id, l.attempts, l.reminder, v.number, v.advisory_id, coalesce(tr.title, v.title) AS title,
       v.action_required, c.tracking_id, t.key, t.name, t.webhook_secret, l.language,
       t.language AS tenant_language,
       ARRAY(SELECT tc.address FROM tenant_contacts tc
             WHERE tc.tenant_id = l.tenant_id AND tc.channel = :channel
             ORDER BY tc.address) AS addresses
FROM leased l
JOIN advisory_versions v ON v.id = l.version_id
JOIN advisories a ON a.id = v.advisory_id
JOIN cases c ON c.id = a.case_id
JOIN tenants t ON t.id = l.tenant_id
LEFT JOIN advisory_translations tr ON tr.version_id = l.version_id AND tr.language = l.language
"""

_RECORD = """
WITH outcome AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]),
                         CAST(:errors AS text[]), CAST(:delays AS float8[]))
        AS o(id, status, error, delay)
), changed AS (
    UPDATE deliveries d
    SET status = o.status, attempts = d.attempts + 1, last_error = NULLIF(o.error, ''),
        delivered_at = CASE WHEN o.status = 'delivered' THEN now() END,
        next_attempt_at = now() + make_interval(secs => o.delay),
        lease_until = NULL, lease_token = NULL, updated_at = now()
    FROM outcome o WHERE d.id = o.id AND d.lease_token = :token
    RETURNING d.id, d.status, d.attempts, coalesce(d.last_error, '') AS detail
)
INSERT INTO delivery_events (delivery_id, status, attempt, detail)
SELECT id, status, attempts, detail FROM changed
"""


async def create(
    session: AsyncSession, *, advisory_id: int, version_id: int, email_enabled: bool
) -> int:
    result = await session.execute(
        text(_CREATE),
        {"advisory_id": advisory_id, "version_id": version_id, "email_enabled": email_enabled},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def translation_for(
    session: AsyncSession, *, version_id: int, language: str, drafts: bool
) -> str | None:
    """The translation a reader of ``language`` gets (with ``drafts``, as it would be once the
    drafts are approved: what the staff's preview shows); None for the original."""
    statuses = "'approved', 'draft'" if drafts else "'approved'"
    found = await session.scalar(
        text(
            PICK_TRANSLATION.format(version=":version_id", language=":language", statuses=statuses)
        ),
        {"version_id": version_id, "language": language},
    )
    return str(found) if found else None


async def languages(session: AsyncSession, *, version_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many tenants each version went to in each translation ('' the original)."""
    rows = await session.execute(
        text(
            "SELECT version_id, coalesce(language, '') AS language, count(DISTINCT tenant_id) "
            "FROM deliveries WHERE version_id = ANY(:ids) AND reminder = 0 "
            "GROUP BY version_id, 2 ORDER BY 2"
        ),
        {"ids": version_ids},
    )
    found: dict[int, dict[str, int]] = {v: {} for v in version_ids}
    for version_id, language, count in rows:
        found[version_id][language] = int(count)
    return found


async def claim(
    session: AsyncSession, *, channel: str, limit: int, lease_seconds: float
) -> tuple[str, list[Outgoing]]:
    """Lease up to ``limit`` due deliveries of ``channel``; commit before sending them."""
    token = str(uuid.uuid4())
    rows = await session.execute(
        text(_CLAIM),
        {"channel": channel, "limit": limit, "lease": lease_seconds, "token": token},
    )
    batch = [
        Outgoing(
            delivery_id=row.id,
            attempts=row.attempts,
            reminder=row.reminder,
            version_number=row.number,
            advisory_id=row.advisory_id,
            title=row.title,
            action_required=row.action_required,
            tracking_id=row.tracking_id,
            tenant_key=row.key,
            tenant_name=row.name,
            webhook_secret=row.webhook_secret,
            addresses=tuple(row.addresses),
            language=row.language,
            tenant_language=row.tenant_language,
        )
        for row in rows
    ]
    return token, batch


def settle(
    batch: Sequence[Outgoing],
    outcomes: Sequence[Outcome],
    *,
    policy: RetryPolicy,
    rng: random.Random,
) -> list[tuple[int, str, str, float]]:
    """Each outcome as (id, new status, error, seconds until the next attempt) (pure)."""
    attempts = {item.delivery_id: item.attempts + 1 for item in batch}
    settled = []
    for outcome in outcomes:
        attempt = attempts[outcome.delivery_id]
        if outcome.delivered:
            settled.append((outcome.delivery_id, "delivered", "", 0.0))
        elif outcome.final is not None:
            settled.append((outcome.delivery_id, outcome.final, outcome.error, 0.0))
        elif policy.is_last(attempt):
            error = f"{outcome.error} (gave up after {attempt} attempts)"
            settled.append((outcome.delivery_id, "dead", error, 0.0))
        else:
            delay = policy.delay(attempt, rng)
            settled.append((outcome.delivery_id, "retrying", outcome.error, delay))
    return settled


async def record(
    session: AsyncSession, *, token: str, settled: Sequence[tuple[int, str, str, float]]
) -> None:
    if not settled:
        return
    ids, statuses, errors, delays = (list(column) for column in zip(*settled, strict=True))
    await session.execute(
        text(_RECORD),
        {"ids": ids, "statuses": statuses, "errors": errors, "delays": delays, "token": token},
    )


async def renew(
    session: AsyncSession, *, token: str, ids: Sequence[int], lease_seconds: float
) -> set[int]:
    """Extend the lease on the batch's deliveries not sent yet; returns those still held (a
    job slower than its lease may have lost some to another job: it must not send them)."""
    if not ids:
        return set()
    rows = await session.execute(
        text(
            "UPDATE deliveries SET lease_until = now() + make_interval(secs => :lease) "
            "WHERE id = ANY(CAST(:ids AS bigint[])) AND lease_token = :token RETURNING id"
        ),
        {"ids": list(ids), "token": token, "lease": lease_seconds},
    )
    return {row[0] for row in rows}


async def postpone(
    session: AsyncSession, *, token: str, ids: Sequence[int], until: datetime
) -> None:
    """Give back leased deliveries untried (a rate limit): not an attempt, not an event."""
    if ids:
        await session.execute(
            text(
                "UPDATE deliveries SET next_attempt_at = :until, lease_until = NULL, "
                "lease_token = NULL WHERE id = ANY(CAST(:ids AS bigint[])) AND lease_token = :token"
            ),
            {"ids": list(ids), "until": until, "token": token},
        )


async def take_email_quota(
    session: AsyncSession, *, wants: dict[str, int], limit: int, window: datetime
) -> dict[str, int]:
    """Reserve up to ``wants[domain]`` emails per domain in this minute's window; returns how
    many each domain got (atomic under concurrent jobs: the rows are locked while counted)."""
    if not wants:
        return {}
    domains, counts = list(wants), list(wants.values())
    params: dict[str, Any] = {"domains": domains, "wants": counts, "window": window, "limit": limit}
    await session.execute(
        text(
            "INSERT INTO email_domain_windows (domain, window_start, sent) "
            "SELECT d, :window, 0 FROM unnest(CAST(:domains AS text[])) AS d "
            "ON CONFLICT DO NOTHING"
        ),
        params,
    )
    rows = await session.execute(
        text(
            """
            WITH want AS (
                SELECT * FROM unnest(CAST(:domains AS text[]), CAST(:wants AS int[]))
                    AS w(domain, want)
            ), old AS (
                SELECT e.domain, e.sent FROM email_domain_windows e JOIN want USING (domain)
                WHERE e.window_start = :window ORDER BY e.domain FOR UPDATE
            )
            UPDATE email_domain_windows e SET sent = LEAST(:limit, old.sent + want.want)
            FROM old JOIN want USING (domain)
            WHERE e.domain = old.domain AND e.window_start = :window
            RETURNING e.domain, e.sent - old.sent AS granted
            """
        ),
        params,
    )
    return {row.domain: int(row.granted) for row in rows}


async def forget_old_windows(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(
        text("DELETE FROM email_domain_windows WHERE window_start < :before"), {"before": before}
    )


async def due_channels(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        text(
            "SELECT c FROM unnest(CAST(:channels AS text[])) AS c WHERE EXISTS ("
            "SELECT 1 FROM deliveries d WHERE d.channel = c "
            "AND d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now() "
            "AND (d.lease_until IS NULL OR d.lease_until < now()))"
        ),
        {"channels": list(CHANNELS)},
    )
    return [row[0] for row in rows]


async def seconds_until_due(session: AsyncSession, *, channel: str) -> float | None:
    """How long until a delivery of ``channel`` can be taken (None: none is waiting)."""
    wait = await session.scalar(
        text(
            "SELECT extract(epoch FROM min(greatest(next_attempt_at, "
            "coalesce(lease_until, next_attempt_at))) - now()) FROM deliveries "
            "WHERE channel = :channel AND status IN ('pending', 'retrying')"
        ),
        {"channel": channel},
    )
    return None if wait is None else max(float(wait), 0.0)


async def schedule_reminders(
    session: AsyncSession, *, now: datetime, every: timedelta, most: int
) -> int:
    """A reminder, on the channels that reached them, for tenants that have not acknowledged
    the latest version of an advisory asking them to act, nor marked every one of their
    affected resources checked — at most ``most`` each."""
    result = await session.execute(
        text(
            """
            INSERT INTO deliveries (version_id, tenant_id, channel, reminder, status, language)
            SELECT d.version_id, d.tenant_id, d.channel, d.reminder + 1, 'pending', d.language
            FROM deliveries d
            JOIN advisory_versions v ON v.id = d.version_id
            JOIN advisories a ON a.id = v.advisory_id AND a.withdrawn_at IS NULL
            WHERE v.status = 'sent' AND v.action_required
              AND v.number = (SELECT max(l.number) FROM advisory_versions l
                              WHERE l.advisory_id = v.advisory_id AND l.status = 'sent')
              AND d.channel IN ('email', 'webhook') AND d.status = 'delivered'
              AND d.reminder < :most AND d.delivered_at <= :due
              AND NOT EXISTS (SELECT 1 FROM advisory_acknowledgments a
                              WHERE a.version_id = d.version_id AND a.tenant_id = d.tenant_id)
              AND NOT EXISTS (
                  SELECT 1 FROM advisory_recipients r
                  WHERE r.advisory_id = v.advisory_id AND r.tenant_id = d.tenant_id
                    AND r.resources > 0
                    AND r.resources <= (
                        SELECT count(*) FROM advisory_resource_marks m
                        WHERE m.advisory_id = v.advisory_id AND m.tenant_id = d.tenant_id
                          AND m.status = 'checked'))
            ON CONFLICT DO NOTHING
            """
        ),
        {"most": most, "due": now - every},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
