"""Scanner findings into reports, set-based: one INSERT … SELECT FROM unnest(...) for a whole
SARIF log. A finding already imported (same scanner and fingerprint) is left out before the
insert, so re-uploading a log creates nothing twice and takes no tracking number: the number is
the column's default over a sequence, which ``ON CONFLICT`` would evaluate for every row it then
skips (the unique index stays, for two uploads of the same log at once).

One upload creates at most ``VULNOPS_SCAN_MAX_REPORTS`` reports: a log with more new findings is
refused whole (nothing is created), saying how many there are, rather than cut at an arbitrary
finding; the findings already known do not count."""

from __future__ import annotations

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import String, Text

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.errors import Invalid
from vulnops.intake.models import Report
from vulnops.intake.sarif import SOURCE, ParsedLog
from vulnops.settings import Settings


async def import_log(
    session: AsyncSession,
    *,
    principal: Principal,
    log: ParsedLog,
    service: str | None,
    settings: Settings,
) -> tuple[list[Report], int]:
    """Create a report per new finding; return the new reports and how many were known."""
    findings = log.findings
    if not findings:
        return [], 0
    # The new findings, counted; inserted only when there are no more than the bound.
    statement = text(
        """
        WITH new AS (
            SELECT f.* FROM unnest(:titles, :descriptions, :locations, :scanners, :rules,
                                   :fingerprints, :severities)
                 AS f(title, description, location, scanner, rule_id, fingerprint, severity)
            WHERE NOT EXISTS (SELECT FROM reports r
                              WHERE r.scanner = f.scanner AND r.fingerprint = f.fingerprint)
        ), created AS (
            INSERT INTO reports (source, state, title, description, service, endpoint,
                                 reproduction, impact, reporter_id, scanner, rule_id, fingerprint,
                                 severity)
            SELECT 'scanner', 'new', n.title, n.description, :service, nullif(n.location, ''),
                   '', '', :reporter, n.scanner, n.rule_id, n.fingerprint, n.severity
            FROM new n
            WHERE (SELECT count(*) FROM new) <= :max_reports
            ON CONFLICT (scanner, fingerprint) WHERE fingerprint IS NOT NULL DO NOTHING
            RETURNING id
        )
        SELECT (SELECT count(*) FROM new) AS new, ARRAY(SELECT id FROM created) AS ids
        """
    ).bindparams(
        bindparam("titles", type_=ARRAY(String)),
        bindparam("descriptions", type_=ARRAY(Text)),
        bindparam("locations", type_=ARRAY(String)),
        bindparam("scanners", type_=ARRAY(String)),
        bindparam("rules", type_=ARRAY(String)),
        bindparam("fingerprints", type_=ARRAY(String)),
        bindparam("severities", type_=ARRAY(String)),
    )
    result = await session.execute(
        statement,
        {
            "max_reports": settings.scan_max_reports,
            "service": (service or "").strip().lower() or None,
            "reporter": principal.user_id,
            "titles": [finding.title for finding in findings],
            "descriptions": [finding.description for finding in findings],
            "locations": [finding.location for finding in findings],
            "scanners": [finding.scanner for finding in findings],
            "rules": [finding.rule_id for finding in findings],
            "fingerprints": [finding.fingerprint for finding in findings],
            "severities": [finding.severity.value for finding in findings],
        },
    )
    new, created_ids = result.one()
    if new > settings.scan_max_reports:
        raise Invalid(
            f"{SOURCE} has {new:,} new findings; one upload creates at most "
            f"{settings.scan_max_reports:,} reports (VULNOPS_SCAN_MAX_REPORTS), so nothing was "
            "imported: split the log, or have the scanner leave out what is not worth a report"
        )
    reports = list(
        await session.scalars(select(Report).where(Report.id.in_(created_ids)).order_by(Report.id))
    )
    scanners = sorted({finding.scanner for finding in findings})
    await audit.record(
        session,
        subject=f"scan:{','.join(scanners)}"[:200],
        kind="scan.imported",
        actor=principal.actor,
        data={
            "runs": log.runs,
            "findings": len(findings),
            "created": len(reports),
            "first_created": [report.tracking_id for report in reports[:50]],
            "already_known": len(findings) - len(reports),
            "service": service,
        },
    )
    return reports, len(findings) - len(reports)
