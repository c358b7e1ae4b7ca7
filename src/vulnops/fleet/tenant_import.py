"""Tenants from CSV: ``key,name,security_emails,webhook_url`` and, optionally, ``language`` (a
BCP 47 tag) and ``time_zone`` (an IANA name). Checked in SQL on the staging table (CSV line
numbers); the languages and time zones are checked in Python once per distinct value (there are
few, however many tenants), then everything is written set-based, a statement each. An empty
language or time zone keeps the tenant's own (English and UTC for a new one)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.errors import Invalid
from vulnops.fleet import staging
from vulnops.tenants.preferences import language_tag, time_zone

TENANT_COLUMNS = ("key", "name", "security_emails", "webhook_url")
PREFERENCE_COLUMNS = ("language", "time_zone")
# More distinct languages or time zones than this is not a list of customers' preferences.
MAX_DISTINCT = 2000

TENANT_CHECKS = [
    "SELECT line, 'key: ' || coalesce(quote_literal(left(key, 100)), 'missing') || "
    "' is not a key (a-z, 0-9, . _ -)' FROM tenants_in "
    "WHERE key IS NULL OR key !~ '^[a-z0-9][a-z0-9._-]{0,99}$'",
    "SELECT line, 'name: missing' FROM tenants_in WHERE coalesce(name, '') = ''",
    "SELECT line, 'name: longer than 200 characters' FROM tenants_in WHERE length(name) > 200",
    "SELECT line, 'security_emails: more than ' || CAST(:max_items AS text) || ' addresses' "
    "FROM tenants_in WHERE cardinality(string_to_array(security_emails, ';')) > :max_items",
    "SELECT line, 'security_emails: an address longer than 320 characters' FROM tenants_in "
    "WHERE EXISTS (SELECT FROM unnest(string_to_array(security_emails, ';')) AS e "
    "WHERE length(e) > 320)",
    "SELECT line, 'webhook_url: longer than 2000 characters' FROM tenants_in "
    "WHERE length(webhook_url) > 2000",
    "SELECT line, 'duplicate tenant key ' || quote_literal(key) FROM ("
    "SELECT line, key, count(*) OVER (PARTITION BY key) AS n FROM tenants_in) d WHERE n > 1",
    "SELECT line, 'security_emails: ' || quote_literal(left(e, 100)) || ' is not an email address' "
    "FROM tenants_in, unnest(string_to_array(security_emails, ';')) AS e "
    "WHERE e <> '' AND e !~ '^[^@\\s;]+@[^@\\s;]+\\.[^@\\s;]+$'",
    "SELECT line, 'webhook_url: ' || quote_literal(left(webhook_url, 100)) || "
    "' is not an http(s) URL' "
    "FROM tenants_in WHERE coalesce(webhook_url, '') <> '' "
    "AND webhook_url !~ '^https?://[^\\s/]+'",
]


async def _preferences(session: AsyncSession, source: str) -> tuple[list[str], list[str]]:
    """Each distinct language and time zone of the file checked: ``(given, normalized)`` pairs
    as two arrays per column, for the upsert to join (BCP 47 tags are stored normalized)."""
    found: list[dict[str, object]] = []
    given: list[str] = []
    normal: list[str] = []
    for column, check in (("language", language_tag), ("time_zone", time_zone)):
        rows = (
            await session.execute(
                text(
                    f"SELECT {column}, min(line) FROM tenants_in "  # noqa: S608 - our names
                    f"WHERE coalesce({column}, '') <> '' GROUP BY 1 ORDER BY 2 "
                    f"LIMIT {MAX_DISTINCT + 1}"
                )
            )
        ).all()
        if len(rows) > MAX_DISTINCT:
            raise Invalid(f"{source}: {column}: more than {MAX_DISTINCT:,} different values")
        for value, line in rows:
            try:
                normalized = check(value)
            except Invalid as error:
                found.append({"line": line, "msg": error.detail})
                continue
            given.append(f"{column}:{value}")
            normal.append(normalized)
    staging.refuse(found, source)
    return given, normal


async def import_tenants(
    session: AsyncSession, *, chunks: AsyncIterator[bytes], source: str
) -> tuple[int, int]:
    """Upsert the file's tenants and replace their contacts; returns (tenants, contacts)."""
    await staging.copy_csv(
        session,
        table="tenants_in",
        columns=TENANT_COLUMNS,
        optional=PREFERENCE_COLUMNS,
        chunks=chunks,
        source=source,
    )
    await staging.problems(session, TENANT_CHECKS, source)
    given, normal = await _preferences(session, source)
    result = await session.execute(
        text(
            """
            INSERT INTO tenants (key, name) SELECT key, name FROM tenants_in
            ON CONFLICT (key) DO UPDATE SET name = excluded.name
            """
        )
    )
    await session.execute(
        text(
            """
            WITH checked AS (
                SELECT * FROM unnest(CAST(:given AS text[]), CAST(:normal AS text[]))
                    AS c(given, normal)
            )
            UPDATE tenants t
            SET language = coalesce(l.normal, t.language),
                time_zone = coalesce(z.normal, t.time_zone)
            FROM tenants_in i
            LEFT JOIN checked l ON l.given = 'language:' || i.language
            LEFT JOIN checked z ON z.given = 'time_zone:' || i.time_zone
            WHERE t.key = i.key AND (l.normal IS NOT NULL OR z.normal IS NOT NULL)
            """
        ),
        {"given": given, "normal": normal},
    )
    await session.execute(
        text(
            "DELETE FROM tenant_contacts c USING tenants t, tenants_in i "
            "WHERE c.tenant_id = t.id AND t.key = i.key"
        )
    )
    contacts = await session.execute(
        text(
            """
            INSERT INTO tenant_contacts (tenant_id, channel, address)
            SELECT DISTINCT t.id, x.channel, x.address FROM tenants_in i
            JOIN tenants t ON t.key = i.key
            CROSS JOIN LATERAL (
                SELECT 'email' AS channel, e AS address
                FROM unnest(string_to_array(i.security_emails, ';')) AS e WHERE e <> ''
                UNION ALL
                SELECT 'webhook', i.webhook_url WHERE coalesce(i.webhook_url, '') <> ''
            ) x
            """
        )
    )
    return (
        int(result.rowcount),  # type: ignore[attr-defined]
        int(contacts.rowcount),  # type: ignore[attr-defined]
    )
