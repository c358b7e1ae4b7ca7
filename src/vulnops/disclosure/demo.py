"""Demo disclosures, each through the rules and the four-eyes approvals:

- a small case fixed by us with nothing for customers to do: public, without a CVE;
- the role-import case: public with CVE-2026-31337 — its customers were told through vulnops
  (the demo advisories), its CVE published before vulnops was in use, so an administrator
  records it (the external CVE is on its timeline);
- the storage SSRF case, which the demo rolls out live: its disclosure is approved for a
  ten minutes after the demo starts, so that the case goes from report to public, with
  every milestone on its timeline, while you watch.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.disclosure import disclosing, public_text, publishing
from vulnops.disclosure.schemas import PublicTextIn
from vulnops.settings import Settings, get_settings

# The demo's CNA: a made-up organisation (CVE Services knows no such UUID).
CNA_ORG_ID = "00000000-0000-4000-8000-00000000de30"
CNA_SHORT_NAME = "vulnops-demo"

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

ADMIN = "admin@vulnops.example"
COMMS = "comms@vulnops.example"
RESPONDER = "responder@vulnops.example"
NO_CVE_TITLE = "Session cookie kept after a password change on the status page"
SSRF_EMBARGO = timedelta(minutes=10)

TEXTS = {
    "no-cve": PublicTextIn(
        title="Other sessions stayed signed in after a password change on the status page",
        description="Changing the password of a status-page account did not end the account's "
        "other sessions. We fixed it in the service.",
        impact="Someone who had signed in before the change stayed signed in until their "
        "session expired.",
    ),
    "roles": PublicTextIn(
        title="Organisation owner through role import",
        description="Importing a role definition did not check who may grant the owner role: "
        "a member allowed to import roles could make themselves owner of the organisation.",
        impact="A member with the role-import permission could take over the organisation.",
        customer_action="Review the owners of your organisations, and remove any you do not "
        "recognise.",
    ),
    "ssrf": PublicTextIn(
        title="Image import could reach internal addresses",
        description="The image importer of Object Storage followed redirects to link-local "
        "addresses: a crafted import could make our servers fetch internal metadata.",
        impact="Temporary credentials of the importer's workers could be read. We found no "
        "sign that this was used.",
        acknowledgments="Thanks to the researchers who reported it through our bug bounty.",
    ),
}


async def _approved_text(
    session: AsyncSession, context: DemoContext, case_id: int, key: str, settings: Settings
) -> None:
    await public_text.save_draft(session, case_id=case_id, text=TEXTS[key], actor=RESPONDER)
    await public_text.decide(
        session,
        case_id=case_id,
        actor=COMMS,
        approve=True,
        comment="Reads well for the public.",
        settings=settings,
        now=context.now,
    )


async def _fixed_case(session: AsyncSession, context: DemoContext, settings: Settings) -> int:
    """A small case fixed by us, with nothing for customers to do: no CVE under the policy."""
    case = await cases.open_case(
        session,
        title=NO_CVE_TITLE,
        summary="Password change did not revoke the other status-page sessions (session store "
        "keyed by account, not by credential generation).",
        services=["identity"],
        actor=ADMIN,
        settings=settings,
        now=context.now,
    )
    for state, reason in (
        (CaseState.REMEDIATING, None),
        (CaseState.MITIGATED, "Sessions are now keyed by the credential generation."),
        (CaseState.NOTIFIED, "Customers need do nothing: the fix is in the service."),
    ):
        await cases.transition(
            session,
            case_id=case.id,
            target=state,
            reason=reason,
            actor=ADMIN,
            now=context.now,
            settings=settings,
        )
    return case.id


async def _disclose(
    session: AsyncSession,
    context: DemoContext,
    case_id: int,
    *,
    settings: Settings,
    asked_by: str,
    approved_by: str,
    public_from: datetime | None = None,
) -> None:
    await disclosing.request_disclosure(
        session,
        case_id=case_id,
        actor=asked_by,
        is_admin=asked_by == ADMIN,
        settings=settings,
        now=context.now,
        public_from=public_from,
    )
    await disclosing.decide_disclosure(
        session,
        case_id=case_id,
        actor=approved_by,
        approve=True,
        comment=None,
        settings=settings,
        now=context.now,
    )


async def _find(session: AsyncSession, context: DemoContext, search: str) -> int:
    return (
        (await cases.list_cases(session, viewer=None, now=context.now, search=search)).items[0].id
    )


async def seed_disclosures(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    fixed = await _fixed_case(session, context, settings)
    await _approved_text(session, context, fixed, "no-cve", settings)
    await _disclose(session, context, fixed, settings=settings, asked_by=COMMS, approved_by=ADMIN)

    roles = await _find(session, context, "Organisation owner through role import")
    await _approved_text(session, context, roles, "roles", settings)
    await publishing.record_published_cve(
        session,
        case_id=roles,
        cve_id="CVE-2026-31337",
        published_at=context.now,
        actor=ADMIN,
        is_admin=True,
        reason="Published through CVE Services before vulnops was in use.",
        settings=settings,
    )
    await _disclose(
        session,
        context,
        roles,
        settings=settings,
        asked_by=ADMIN,
        approved_by=COMMS,
    )

    ssrf = await _find(session, context, "SSRF image importer")
    await _approved_text(session, context, ssrf, "ssrf", settings)
    await _disclose(
        session,
        context,
        ssrf,
        settings=settings,
        asked_by=COMMS,
        approved_by=ADMIN,
        public_from=context.now + SSRF_EMBARGO,
    )
