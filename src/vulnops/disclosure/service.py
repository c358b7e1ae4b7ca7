"""A case's CVE decision, its CVE record and its CSAF document, from what the other domains know
about it. The record and the document read only the case's approved public text."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import milestones
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone
from vulnops.disclosure import csaf, cve_schema, public_text
from vulnops.disclosure.csaf import Category, CsafFacts
from vulnops.disclosure.csaf_products import Justification, NotAffected
from vulnops.disclosure.cve_record import AffectedProduct, CveFacts, Reference, Ssvc, record
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


async def _not_affected(
    session: AsyncSession, case_id: int, affected: list[AffectedProduct]
) -> tuple[NotAffected, ...]:
    """The other versions of the case's services that the SBOMs clear: without the package
    (``component_not_present``) or with it only outside the range (``vulnerable_code_not_present``).
    Only a blast radius by component says that much; a version whose package version the range
    cannot read, or that holds it in the range without running anywhere, is not stated."""
    radius = await blast.find(session, case_id=case_id)
    component = radius.criteria.get("component") if radius else None
    if not component:
        return ()
    names = {product.key: product.product for product in affected}
    stated = {
        (product.key, version)
        for product in affected
        for version in (*product.versions, *([product.fixed_in] if product.fixed_in else []))
    }
    presence = await fleet.component_presence(
        session, services=sorted(names), purl=component["purl"], version_range=component["range"]
    )
    justification: dict[str, Justification] = {
        "absent": "component_not_present",
        "outside": "vulnerable_code_not_present",
    }
    return tuple(
        NotAffected(
            key=found.service,
            product=names[found.service],
            version=found.version,
            justification=justification[found.holds],
        )
        for found in presence
        if found.holds in justification and (found.service, found.version) not in stated
    )


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


async def record_missing(session: AsyncSession, *, case_id: int, settings: Settings) -> list[str]:
    """What keeps the case from having a CVE record at all (nothing: it may have one): a CVE
    decision that says CVE, a fix in place (a record describes a vulnerability that is fixed,
    or says what customers must do), and the approved public text the record reads."""
    made = await decision(session, case_id=case_id, settings=settings)
    reached = await milestones.reached(session, case_id=case_id)
    missing = []
    if not made.cve:
        missing.append(f"the CVE decision says no CVE ({made.reason})")
    if Milestone.MITIGATED not in reached:
        missing.append("the case is not mitigated yet (the fix has not reached every unit)")
    if await public_text.approved(session, case_id=case_id) is None:
        missing.append("the case has no approved public text")
    return missing


async def cve_facts(
    session: AsyncSession, *, case_id: int, cve_id: str, settings: Settings
) -> CveFacts:
    case = await cases.get_case(session, case_id=case_id)
    if settings.cna_org_id is None:
        raise Invalid(
            "VULNOPS_CNA_ORG_ID is not set: a CVE record names its CNA (see the README's "
            '"Setting up a CNA")'
        )
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
    row = await session.get(Disclosure, case_id)
    public = reached.get(Milestone.PUBLIC)
    triaged = reached.get(Milestone.TRIAGED)
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
        references=(
            Reference(
                url=settings.advisory_url(case.tracking_id),
                name=f"{settings.vendor_name} security advisory {case.tracking_id}",
                tags=("vendor-advisory",),
            ),
        ),
        credits=tuple(await intake.credit_names(session, case_id=case_id)),
        timeline=tuple(timeline),
        tags=made.tags,
        date_public=public.at if public else (row.public_from if row else None),
        ssvc=_ssvc(case),
        assessed_at=triaged.at if triaged else case.opened_at,
    )


def _ssvc(case: Case) -> Ssvc | None:
    if case.automatable is None or case.technical_impact is None:
        return None
    return Ssvc(
        exploitation=case.exploitation,
        automatable=case.automatable,
        technical_impact=case.technical_impact,
        mission_wellbeing=case.mission_wellbeing,
        decision=case.ssvc_decision,
    )


async def cve_record(
    session: AsyncSession, *, case_id: int, cve_id: str | None, settings: Settings
) -> tuple[dict[str, Any], list[str]]:
    """The record and every field that makes it invalid (none: it can be published); a 409
    naming what is missing when the case may not have one (:func:`record_missing`). Without
    ``cve_id``, the id reserved for the case. ``datePublished`` is CVE Services' date of
    publication, once there is one."""
    missing = await record_missing(session, case_id=case_id, settings=settings)
    if missing:
        raise Conflict("no CVE record for this case: " + "; ".join(missing), missing=missing)
    row = await session.get(Disclosure, case_id)
    if cve_id is None:
        if row is None or row.cve_id is None:
            raise Invalid("cve_id: the case has no CVE id yet; give one or reserve it")
        cve_id = row.cve_id
    facts = await cve_facts(session, case_id=case_id, cve_id=cve_id, settings=settings)
    published = row.cve_published_at if row is not None and row.cve_id == cve_id else None
    document = record(facts, published=published)
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
    mitigated = (await milestones.reached(session, case_id=case_id)).get(Milestone.MITIGATED)
    affected = await _affected(session, case_id, list(case.services))
    facts = CsafFacts(
        tracking_id=case.tracking_id,
        title=text.title,
        summary=text.description,
        vendor=settings.vendor_name,
        namespace=settings.public_url,
        url=settings.advisory_url(case.tracking_id),
        json_url=f"{settings.public_url.rstrip('/')}/.well-known/csaf/white/"
        f"{csaf.path(case.tracking_id, row.public_from)}",
        released=row.public_from,
        affected=tuple(affected),
        not_affected=await _not_affected(session, case_id, affected)
        if category == "csaf_vex"
        else (),
        cve_id=row.cve_id if row.cve_published_at else None,
        cwe_id=case.cwe_id,
        cvss31=case.cvss31_vector,
        customer_action_required=case.customer_action_required,
        customer_action=text.customer_action,
        credits=tuple(await intake.credit_names(session, case_id=case_id)),
        rating=case.rating,
        impact=text.impact,
        mitigated_at=mitigated.at if mitigated else None,
    )
    return csaf.document(facts, category=category)
