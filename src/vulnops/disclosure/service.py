"""A case's CVE decision, its CVE record and its CSAF document, from what the other domains know
about it. The record and the document read only the case's approved public text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.states import Milestone
from vulnops.disclosure import csaf, cve_schema, public_text
from vulnops.disclosure.csaf import Category, CsafFacts
from vulnops.disclosure.cve_record import AffectedProduct, CveFacts, record, references
from vulnops.disclosure.decision import CveDecision, CvePolicy, decide
from vulnops.disclosure.models import Disclosure, PublicText
from vulnops.errors import Conflict, Invalid
from vulnops.fleet import blast
from vulnops.fleet import service as fleet
from vulnops.intake import service as intake
from vulnops.remediation import service as remediation
from vulnops.settings import Settings

CVE_ID = r"^CVE-[0-9]{4}-[0-9]{4,19}$"


async def decision(session: AsyncSession, *, case_id: int, settings: Settings) -> CveDecision:
    """Every affected product of a case is one of our hosted services (the fleet holds nothing
    else), so a record is always tagged ``exclusively-hosted-service``."""
    case = await cases.get_case(session, case_id=case_id)
    row = await session.get(Disclosure, case_id)
    return decide(
        policy=CvePolicy(settings.cve_policy),
        customer_action_required=case.customer_action_required,
        rating=case.rating,
        hosted_only=True,
        no_cve_reason=row.no_cve_reason if row else None,
    )


async def _affected(
    session: AsyncSession, case_id: int, services: list[str]
) -> list[AffectedProduct]:
    radius = await blast.find(session, case_id=case_id)
    known = {
        (row["service"], row["version"]) for row in (radius.service_versions if radius else [])
    }
    fixes = await remediation.fixes_of_case(session, case_id=case_id)
    fix_services = await fleet.service_keys(session, ids=sorted({fix.service_id for fix in fixes}))
    fixed = {fix_services[fix.service_id]: fix.version for fix in fixes}
    keys = sorted(set(services) | set(fixed))
    names = await fleet.service_names(session, keys=keys)
    return [
        AffectedProduct(
            key=key,
            product=names.get(key, key),
            versions=tuple(sorted(v for s, v in known if s == key)),
            fixed_in=fixed.get(key),
        )
        for key in keys
    ]


async def approved_text(session: AsyncSession, *, case_id: int) -> PublicText:
    """The case's approved public text, or a refusal naming what is missing."""
    text = await public_text.approved(session, case_id=case_id)
    if text is None:
        raise Conflict(
            "the case has no approved public text: a CVE record, a CSAF document and the public "
            "pages read only that (draft it on the case and have it approved)",
            missing=["public_text"],
        )
    return text


_TIMELINE = (
    (Milestone.REPORTED, "Reported"),
    (Milestone.MITIGATED, "Fix deployed"),
    (Milestone.CUSTOMERS_NOTIFIED, "Affected customers notified"),
    (Milestone.PUBLIC, "Advisory published"),
)


async def cve_facts(
    session: AsyncSession, *, case_id: int, cve_id: str, settings: Settings
) -> CveFacts:
    case = await cases.get_case(session, case_id=case_id)
    if settings.cna_org_id is None:
        raise Invalid("VULNOPS_CNA_ORG_ID is not set: a CVE record names its CNA")
    text = await approved_text(session, case_id=case_id)
    reached = await milestones.reached(session, case_id=case_id)
    timeline = sorted(
        (
            (reached[milestone].at, label)
            for milestone, label in _TIMELINE
            if milestone in reached and not reached[milestone].skipped
        ),
        key=lambda entry: entry[0],  # at the same time, in the lifecycle's order
    )
    made = await decision(session, case_id=case_id, settings=settings)
    return CveFacts(
        cve_id=cve_id,
        org_id=settings.cna_org_id,
        org_short_name=settings.cna_short_name,
        vendor=settings.vendor_name,
        title=text.title,
        description=text.description,
        affected=tuple(await _affected(session, case_id, list(case.services))),
        cwe_ids=(case.cwe_id,) if case.cwe_id else (),
        cvss31=case.cvss31_vector,
        cvss40=case.cvss40_vector,
        references=references([settings.advisory_url(case.tracking_id)]),
        credits=tuple(await intake.credit_names(session, case_id=case_id)),
        timeline=tuple(timeline),
        tags=made.tags,
    )


async def cve_record(
    session: AsyncSession, *, case_id: int, cve_id: str | None, settings: Settings, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The record and every field that makes it invalid (none: it can be published). Without
    ``cve_id``, the id reserved for the case."""
    if cve_id is None:
        row = await session.get(Disclosure, case_id)
        if row is None or row.cve_id is None:
            raise Invalid("cve_id: the case has no CVE id yet; give one or reserve it")
        cve_id = row.cve_id
    facts = await cve_facts(session, case_id=case_id, cve_id=cve_id, settings=settings)
    document = record(facts, published=now)
    return document, cve_schema.problems(document)


async def csaf_document(
    session: AsyncSession, *, case_id: int, category: Category, settings: Settings
) -> dict[str, Any]:
    """The disclosed case as a CSAF 2.0 document (TLP:WHITE)."""
    case = await cases.get_case(session, case_id=case_id)
    row = await session.get(Disclosure, case_id)
    if row is None or row.disclosed_at is None or row.public_from is None:
        raise Conflict(f"{case.tracking_id} is not disclosed: a CSAF document is public")
    text = await approved_text(session, case_id=case_id)
    facts = CsafFacts(
        tracking_id=case.tracking_id,
        title=text.title,
        summary=text.description,
        vendor=settings.vendor_name,
        namespace=settings.public_url,
        url=settings.advisory_url(case.tracking_id),
        released=row.public_from,
        affected=tuple(await _affected(session, case_id, list(case.services))),
        cve_id=row.cve_id if row.cve_published_at else None,
        cwe_id=case.cwe_id,
        cvss31=case.cvss31_vector,
        customer_action_required=case.customer_action_required,
        customer_action=text.customer_action,
    )
    return csaf.document(facts, category=category)
