"""Demo disclosures: two cases public — one with a CVE, one without (its customers needed to do
nothing) — so that the public pages, the feed, security.txt and the CSAF directory show
something real.

These cases' customers were told before the demo's advisories existed, so the disclosures go
through an administrator's override (kept in the timeline), and the CVE stands for one that was
published through CVE Services then (the demo cannot reach it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.disclosure import publishing
from vulnops.disclosure.models import Disclosure

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

ADMIN = "admin@vulnops.example"
OVERRIDE = "Customers were told by email before vulnops was in use."
NO_CVE_TITLE = "Session cookie kept after a password change on the status page"


async def _fixed_case(session: AsyncSession, context: DemoContext) -> int:
    """A small case fixed by us, with nothing for customers to do: no CVE under the policy."""
    case = await cases.open_case(
        session,
        title=NO_CVE_TITLE,
        summary="Changing the password did not end the other sessions of the status page. "
        "We fixed it in the service; customers need not do anything.",
        services=["identity"],
        actor=ADMIN,
        policy=cases.sla_policy(None),
        now=context.now,
    )
    for state in (CaseState.TRIAGING, CaseState.REMEDIATING, CaseState.MITIGATED):
        await cases.transition(
            session, case_id=case.id, target=state, reason=None, actor=ADMIN, now=context.now
        )
    return case.id


ROLE_IMPORT_SUMMARY = (
    "Importing a role definition did not check who may grant the owner role: a member allowed "
    "to import roles could make themselves owner of the organisation. Customers who let "
    "members import roles were asked to review their owners."
)


async def seed_disclosures(session: AsyncSession, context: DemoContext) -> None:
    role_import = await cases.list_cases(
        session, now=context.now, search="Organisation owner through role import"
    )
    await cases.update_case(
        session,
        case_id=role_import.items[0].id,
        actor=ADMIN,
        summary=ROLE_IMPORT_SUMMARY,
        reason="the public description",
    )
    for case_id, cve_id in (
        (role_import.items[0].id, "CVE-2026-31337"),
        (await _fixed_case(session, context), None),
    ):
        if cve_id:
            session.add(
                Disclosure(
                    case_id=case_id,
                    cve_id=cve_id,
                    cve_reserved_at=context.now,
                    cve_published_at=context.now,
                )
            )
            await session.flush()
        await publishing.disclose(
            session,
            case_id=case_id,
            actor=ADMIN,
            is_admin=True,
            now=context.now,
            override_reason=OVERRIDE,
        )
