"""The intake benchmark's data set: 100k reports and 20k cases written in SQL (a vocabulary of
findings, places and words, mixed deterministically per row), and the accounts whose tokens
the load uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from benchmarks.common import Stopwatch, api_token
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.db.database import Database

REPORTS = 100_000
CASES = 20_000
RESEARCHERS = 150  # accounts of their own, for the quota

VULNS = """SSRF|stored XSS|reflected XSS|DOM XSS|IDOR|SQL injection|NoSQL injection|open redirect|
CSRF|path traversal|privilege escalation|token leakage|request smuggling|cache poisoning|
insecure deserialization|XXE|race condition|denial of service|missing authorization|
broken access control|clickjacking|subdomain takeover|session fixation|JWT signature bypass|
prototype pollution|template injection|command injection|LDAP injection|header injection|
CORS misconfiguration|credential stuffing|account takeover|information leak|timing side channel|
weak randomness|mass assignment|rate limit bypass|unsafe redirect|tenant isolation bypass|
signature bypass""".replace("\n", "").split("|")
PLACES = """image import|backup policy|support ticket|billing export|role import|webhook redelivery|
snapshot sharing|metric tags|API key rotation|sign-out|invoice download|audit log export|
password reset|DNS zone editor|queue admin|object versioning|bucket lifecycle|VM console|
serial port access|disk encryption|key vault rotation|load balancer rules|firewall editor|
VPN gateway|peering setup|container registry|build pipeline|function triggers|log search|
alert rules|dashboard sharing|team invitations|SSO configuration|SCIM provisioning|
MFA enrolment|recovery codes|billing alerts|usage reports|quota requests|marketplace listing|
partner portal|support chat|status page|docs search|CLI login|device code flow|OAuth consent|
service accounts|workload identity|secret manager|certificate issuance|domain verification|
email relay|SMS gateway|notification hub|event grid|stream processing|data export|
database restore|read replicas|schema migration|cluster autoscaler|node pools|
ingress controller|service mesh|edge cache|image optimizer|video transcoder|search index|
AI inference|model registry|notebook sharing|feature flags|config store|job scheduler|
batch uploads|file preview|thumbnail service|audit trail|admin impersonation""".replace(
    "\n", ""
).split("|")
SERVICES = [
    "storage",
    "compute",
    "identity",
    "billing",
    "networking",
    "database",
    "monitoring",
    "portal",
    "api-gateway",
    "backup",
    "events",
    "dns",
    "queues",
    "kubernetes",
    "cdn",
]
WORDS = [
    "tenant",
    "attacker",
    "request",
    "response",
    "header",
    "token",
    "session",
    "cookie",
    "endpoint",
    "parameter",
    "bucket",
    "policy",
    "credential",
    "metadata",
    "internal",
    "service",
    "worker",
    "admin",
    "console",
    "upload",
    "download",
    "id",
    "signature",
    "cache",
    "redirect",
    "query",
    "filter",
    "export",
    "import",
    "role",
    "scope",
    "organisation",
    "project",
    "customer",
    "secret",
    "password",
    "key",
    "certificate",
    "domain",
    "email",
    "phone",
    "invoice",
    "payment",
    "card",
    "user",
    "group",
    "permission",
    "grant",
    "invite",
    "approval",
    "webhook",
    "callback",
    "payload",
    "archive",
    "manifest",
    "image",
    "volume",
    "snapshot",
    "region",
    "zone",
    "cluster",
    "node",
    "pod",
    "namespace",
    "queue",
    "topic",
    "subscription",
    "record",
]


def _pick(array: str, salt: str) -> str:
    """A deterministic pseudo-random element of ``array`` for row ``n`` (no periodic repeats)."""
    return f"v.{array}[1 + abs(hashtext(n || '{salt}')) % array_length(v.{array}, 1)]"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


FILL = f"""
INSERT INTO cases (tracking_id, title, summary, state, services, rating, started_at, opened_at,
                   acknowledge_due, triage_due, mitigate_due, acknowledged_at, breaches_recorded)
SELECT 'CASE-2026-' || lpad(n::text, 6, '0'),
       {_pick("vulns", "v")} || ' in ' || {_pick("places", "p")},
       'Case ' || n,
       (ARRAY['new','triaging','remediating','deploying','mitigated','closed'])[1 + n % 6],
       ARRAY[{_pick("services", "s")}],
       (ARRAY['critical','important','moderate','low'])[1 + n % 4],
       now() - (n % 400) * interval '1 hour', now() - (n % 400) * interval '1 hour',
       now() - (n % 400) * interval '1 hour' + interval '4 hours',
       now() - (n % 400) * interval '1 hour' + interval '24 hours',
       now() - (n % 400) * interval '1 hour' + interval '7 days',
       CASE WHEN n % 3 = 0 THEN NULL ELSE now() - (n % 400) * interval '1 hour' END, '{{}}'
FROM generate_series(1, {CASES}) AS n,
     (SELECT {_array(VULNS)} AS vulns, {_array(PLACES)} AS places,
             {_array(SERVICES)} AS services) AS v;
SELECT setval('case_tracking_seq', {CASES});

INSERT INTO reports (tracking_id, source, state, close_reason, title, description, service,
                     endpoint, reproduction, impact, reporter_id, received_at, case_id)
SELECT 'VULN-2026-' || lpad(n::text, 6, '0'), 'researcher',
       CASE WHEN n % 5 = 0 THEN 'closed' ELSE (ARRAY['new','needs_info','triaged'])[1 + n % 3] END,
       CASE WHEN n % 5 = 0 THEN 'duplicate' END,
       {_pick("vulns", "v")} || ' in ' || {_pick("places", "p")} || ' exposes ' ||
           {_pick("words", "a")} || ' ' || {_pick("words", "b")},
       'The ' || {_pick("words", "c")} || ' ' || {_pick("words", "d")} ||
           ' is not checked when the ' || {_pick("words", "e")} || ' is ' ||
           {_pick("words", "f")} || '.',
       {_pick("services", "s")},
       'POST /api/v' || (1 + n % 3) || '/' || {_pick("words", "g")} || '/{{id}}',
       '', '', :reporter, now() - (n % 2000) * interval '15 minutes',
       CASE WHEN n % 4 = 0 THEN 1 + n % {CASES} END
FROM generate_series(1, {REPORTS}) AS n,
     (SELECT {_array(VULNS)} AS vulns, {_array(PLACES)} AS places,
             {_array(SERVICES)} AS services, {_array(WORDS)} AS words) AS v;
SELECT setval('report_tracking_seq', {REPORTS});
UPDATE cases SET breaches_recorded = array_remove(ARRAY[
    CASE WHEN acknowledged_at IS NULL AND acknowledge_due <= now() THEN 'acknowledge' END,
    CASE WHEN triage_due <= now() THEN 'triage' END,
    CASE WHEN mitigate_due <= now() THEN 'mitigate' END]::varchar[], NULL);
ANALYZE cases; ANALYZE reports;
"""  # noqa: S608 - our own constants
# The deadlines already passed count as recorded, as in a system that has run all along: the
# SLA job would otherwise write 32,000 breach events in its first minute, under the load.


@dataclass
class Tokens:
    staff: str
    partner: str
    researchers: list[str]


async def fill(database: Database) -> tuple[Tokens, float]:
    """Load the data set; return the tokens of a responder, a partner and researchers (their
    reports are the bench researcher's), and the seconds it took."""
    clock = Stopwatch()
    async with database.session() as session:
        made = {}
        for role in (Role.RESEARCHER, Role.RESPONDER, Role.PARTNER):
            made[role] = await users.create_user(
                session,
                email=f"bench-{role.value}@example.com",
                password=f"bench password {role.value}",
                role=role,
                actor="bench",
            )
        await session.flush()
        for statement in FILL.split(";\n"):
            if statement.strip():
                await session.execute(text(statement), {"reporter": made[Role.RESEARCHER].id})
        # Researchers of their own, for the quota: one password hash for all (hashing is slow).
        researcher_ids = await session.scalars(
            text(
                "INSERT INTO users (email, display_name, role, password_hash) "
                "SELECT 'bench-researcher-' || n || '@example.com', 'Researcher ' || n, "
                "'researcher', :hash FROM generate_series(1, :count) AS n RETURNING id"
            ),
            {"hash": made[Role.RESEARCHER].password_hash, "count": RESEARCHERS},
        )
        tokens = Tokens(
            staff=await api_token(session, made[Role.RESPONDER].id),
            partner=await api_token(session, made[Role.PARTNER].id),
            researchers=[await api_token(session, user_id) for user_id in list(researcher_ids)],
        )
        await session.commit()
    return tokens, clock.seconds
