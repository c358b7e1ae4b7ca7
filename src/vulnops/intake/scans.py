"""Scanner findings into reports, set-based: one INSERT … SELECT FROM unnest(...) for a whole
SARIF log; a finding already imported (same scanner and fingerprint) is skipped by the unique
index, so re-uploading a log creates nothing twice."""

from __future__ import annotations

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import String, Text

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.intake.models import Report
from vulnops.intake.sarif import ParsedLog


async def import_log(
    session: AsyncSession, *, principal: Principal, log: ParsedLog, service: str | None
) -> tuple[list[Report], int]:
    """Create a report per new finding; return the new reports and how many were known."""
    findings = log.findings
    if not findings:
        return [], 0
    statement = text(
        """
        INSERT INTO reports (source, state, title, description, service, endpoint,
                             reproduction, impact, reporter_id, scanner, rule_id, fingerprint)
        SELECT 'scanner', 'new', f.title,
               f.description, :service, nullif(f.location, ''), '', '', :reporter, f.scanner,
               f.rule_id, f.fingerprint
        FROM unnest(:titles, :descriptions, :locations, :scanners, :rules, :fingerprints)
             AS f(title, description, location, scanner, rule_id, fingerprint)
        ON CONFLICT (scanner, fingerprint) WHERE fingerprint IS NOT NULL DO NOTHING
        RETURNING id
        """
    ).bindparams(
        bindparam("titles", type_=ARRAY(String)),
        bindparam("descriptions", type_=ARRAY(Text)),
        bindparam("locations", type_=ARRAY(String)),
        bindparam("scanners", type_=ARRAY(String)),
        bindparam("rules", type_=ARRAY(String)),
        bindparam("fingerprints", type_=ARRAY(String)),
    )
    result = await session.execute(
        statement,
        {
            "service": (service or "").strip().lower() or None,
            "reporter": principal.user_id,
            "titles": [finding.title for finding in findings],
            "descriptions": [finding.description for finding in findings],
            "locations": [finding.location for finding in findings],
            "scanners": [finding.scanner for finding in findings],
            "rules": [finding.rule_id for finding in findings],
            "fingerprints": [finding.fingerprint for finding in findings],
        },
    )
    created_ids = [row.id for row in result.all()]
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
