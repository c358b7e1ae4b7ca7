"""Starting a variant hunt from a case, and reading hunts and their findings.

A hunt is written with its question checked (a Semgrep rule Semgrep can read, a package URL
and range, a tag predicate, a weakness the catalogue holds) and its job deferred in the same
transaction, so a committed hunt always runs. An uploaded SARIF log is read at once: its
findings are the hunt's, and it is finished when it is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth.principal import Principal
from vulnops.cases import access
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.db.database import raw_connection
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.errors import Invalid, NotFound
from vulnops.fleet import repositories
from vulnops.fleet import service as fleet
from vulnops.intake import sarif
from vulnops.jobcontext import bound
from vulnops.settings import Settings
from vulnops.variants import findings as stored
from vulnops.variants import semgrep
from vulnops.variants.models import Finding, Hunt, HuntLocation, RootCause
from vulnops.variants.rootcause import known_weakness
from vulnops.variants.schemas import FindingOut, HuntIn, HuntOut, LocationOut

STRATEGIES_TEXT = "code, sarif, components, configuration or history"


async def _weakness_of(session: AsyncSession, case: Case, given: int | None) -> int:
    if given is not None:
        return known_weakness(given)
    root = await session.get(RootCause, case.id)
    found = (root.cwe_id if root else None) or case.cwe_id
    if found is None:
        raise Invalid(
            "cwe_id: the case names no weakness yet: give one, or record the root cause first",
            field="cwe_id",
        )
    return found


async def _params(
    session: AsyncSession, *, case: Case, given: HuntIn, settings: Settings
) -> dict[str, Any]:
    """The hunt's question, checked; Invalid names the field that is wrong."""
    match given.strategy:
        case None:
            raise Invalid(f"strategy: choose one of {STRATEGIES_TEXT}", field="strategy")
        case "code":
            await semgrep.check_rule(given.rule, settings=settings)
            return {"rule": given.rule, "services": sorted(set(given.services))}
        case "components":
            if not given.purl:
                raise Invalid("purl: give the package URL, e.g. pkg:pypi/requests", field="purl")
            await fleet.component_versions(session, purl=given.purl, version_range=given.range)
            return {"purl": given.purl, "range": given.range or None}
        case "configuration":
            if not (given.tags_all or given.tags_any or given.tags_none):
                raise Invalid(
                    "tags_all: give at least one tag the resources must have (all of, one of) "
                    "or must not have",
                    field="tags_all",
                )
            return {
                "tags_all": sorted(set(given.tags_all)),
                "tags_any": sorted(set(given.tags_any)),
                "tags_none": sorted(set(given.tags_none)),
            }
        case "history":
            return {"cwe_id": await _weakness_of(session, case, given.cwe_id)}
        case "sarif":
            raise Invalid("sarif: upload the SARIF log (the file field sarif)", field="sarif")


async def start(
    session: AsyncSession,
    *,
    case_id: int,
    given: HuntIn,
    actor: str,
    settings: Settings,
    sarif_log: object | None = None,
) -> Hunt:
    """Write the hunt and defer its job (an uploaded log's findings are written at once)."""
    case = await cases.get_case(session, case_id=case_id)
    if sarif_log is not None:
        given = given.model_copy(update={"strategy": "sarif"})
        parsed = sarif.findings(sarif_log)
        params: dict[str, Any] = {"runs": parsed.runs, "results": len(parsed.findings)}
    else:
        params = await _params(session, case=case, given=given, settings=settings)
    hunt = Hunt(case_id=case.id, strategy=given.strategy, params=params, created_by=actor)
    session.add(hunt)
    await session.flush()
    if given.strategy == "code":
        found = await repositories.of_services(session, keys=params["services"])
        if not found:
            raise Invalid(
                "services: no service has a source repository registered: add one on the "
                "service's page (Fleet) or with PUT /api/fleet/services/{key}/repositories",
                field="services",
            )
        session.add_all(
            HuntLocation(hunt_id=hunt.id, service_id=r.service_id, location=r.location)
            for r in found
        )
    await audit.record(
        session,
        subject=cases.subject(case),
        kind="variants.hunt_started",
        actor=actor,
        data={"hunt": hunt.id, "strategy": hunt.strategy},
    )
    if sarif_log is not None:
        await stored.add(session, hunt_id=hunt.id, rows=stored.from_sarif(parsed))
        hunt.state = "finished"
        hunt.started_at = hunt.finished_at = datetime.now(UTC)
        await session.flush()
        return hunt
    from vulnops.variants.tasks import run_hunt  # noqa: PLC0415 - the task imports this module

    connection = await raw_connection(session)
    await bound(run_hunt).configure(connection=connection).defer_async(hunt_id=hunt.id)
    return hunt


async def get(session: AsyncSession, *, hunt_id: int) -> Hunt:
    hunt = await session.get(Hunt, hunt_id, populate_existing=True)
    if hunt is None:
        raise NotFound(f"no hunt {hunt_id}")
    return hunt


async def view(session: AsyncSession, *, hunt: Hunt) -> HuntOut:
    return (await views(session, hunts=[hunt]))[0]


async def views(session: AsyncSession, *, hunts: list[Hunt]) -> list[HuntOut]:
    """The hunts with their locations and counts: three queries however many hunts."""
    ids = [h.id for h in hunts]
    locations: dict[int, list[HuntLocation]] = {i: [] for i in ids}
    for loc in await session.scalars(
        select(HuntLocation)
        .where(HuntLocation.hunt_id.in_(ids))
        .order_by(HuntLocation.location, HuntLocation.service_id)
    ):
        locations[loc.hunt_id].append(loc)
    keys = await fleet.service_keys(
        session, ids=sorted({loc.service_id for spots in locations.values() for loc in spots})
    )
    counts = {
        row.hunt_id: (row.total, row.candidates)
        for row in await session.execute(
            select(
                Finding.hunt_id,
                func.count().label("total"),
                func.count().filter(Finding.state == "candidate").label("candidates"),
            )
            .where(Finding.hunt_id.in_(ids))
            .group_by(Finding.hunt_id)
        )
    }
    return [
        HuntOut(
            id=hunt.id,
            case_id=hunt.case_id,
            strategy=hunt.strategy,
            params=hunt.params,
            state=hunt.state,
            error=hunt.error,
            created_by=hunt.created_by,
            created_at=hunt.created_at,
            started_at=hunt.started_at,
            finished_at=hunt.finished_at,
            locations_total=len(locations[hunt.id]),
            locations_done=sum(1 for loc in locations[hunt.id] if loc.state != "pending"),
            findings=counts.get(hunt.id, (0, 0))[0],
            candidates=counts.get(hunt.id, (0, 0))[1],
            locations=[
                LocationOut(
                    service=keys.get(loc.service_id, "?"),
                    location=loc.location,
                    state=loc.state,
                    message=loc.message,
                    findings=loc.findings,
                )
                for loc in locations[hunt.id]
            ],
        )
        for hunt in hunts
    ]


async def of_case(session: AsyncSession, *, case_id: int) -> list[Hunt]:
    return list(
        await session.scalars(select(Hunt).where(Hunt.case_id == case_id).order_by(Hunt.id.desc()))
    )


async def findings_page(
    session: AsyncSession,
    *,
    hunt: Hunt,
    viewer: Principal | None,
    state: str | None,
    page: int,
    per_page: int,
) -> Page[FindingOut]:
    """The hunt's findings, a page in SQL; a finding about a case the viewer may not see is
    left out (a history hunt's earlier restricted cases)."""
    query = select(Finding).where(Finding.hunt_id == hunt.id)
    hidden = access.hidden_case_ids(viewer)
    if hidden is not None:
        query = query.where(
            Finding.about_case_id.is_(None) | Finding.about_case_id.not_in(hidden),
            Finding.decided_case_id.is_(None) | Finding.decided_case_id.not_in(hidden),
        )
    if state:
        query = query.where(Finding.state == state)
    found = await paginate_scalars(
        session, query.order_by(Finding.id), page=page, per_page=per_page
    )
    keys = await fleet.service_keys(
        session, ids=[f.service_id for f in found.items if f.service_id is not None]
    )
    return found.map(lambda f: stored.out(f, keys))


async def finding_view(session: AsyncSession, *, finding: Finding) -> FindingOut:
    ids = [finding.service_id] if finding.service_id is not None else []
    return stored.out(finding, await fleet.service_keys(session, ids=ids))
