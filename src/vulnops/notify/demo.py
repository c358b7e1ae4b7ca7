"""Demo advisories: the storage SSRF advisory sent with its French translation (Contoso, which
reads French, among the affected tenants; some tenants acknowledged and rated it, Contoso's
administrator checked one of its buckets and asked, in French, a question the responder
answered), the role-import advisory sent to the tenants of
Identity (they must review their organisations' owners; 36 acknowledged it and 12 rated it,
for its post-incident review), the log4j advisory drafted and waiting for approval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.cases import service as cases
from vulnops.fleet import blast, importer
from vulnops.notify import conversation, portal, resource_marks, service, translations
from vulnops.notify.schemas import DraftIn, TranslationIn
from vulnops.settings import get_settings
from vulnops.tenants import service as tenants

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

WRITER = "responder@vulnops.example"
CUSTOMER = "admin@contoso.example"
APPROVER = "comms@vulnops.example"
FEEDBACK = (
    (5, "Clear, early and it told us exactly which buckets."),
    (4, "Good. A CSV of the affected resources would help."),
    (3, "We had to ask our account team what 'image importer' means."),
)
ROLE_FEEDBACK = (
    (5, "We checked our owners in ten minutes; nobody we did not know."),
    (4, "Clear steps. Say which of our projects had role import switched off."),
    (2, "It reached us at night and said to act without saying how urgent it was."),
    (4, "Thank you for telling us before it was public."),
)


# The SSRF advisory in French: what Contoso reads.
FRENCH = TranslationIn(
    title="L'import d'images pouvait atteindre des adresses internes",
    summary="L'importateur d'images d'Object Storage suivait les redirections vers des adresses "
    "link-local. Un compartiment doté d'un point de terminaison public pouvait servir à faire lire "
    "à nos serveurs des métadonnées internes. Nous n'avons trouvé aucun signe d'utilisation "
    "contre vous.",
    body="""\
**{{ tlp }}** — pour {{ tenant.name }} et les personnes qui doivent le savoir pour agir.

## Ce qui s'est passé
{{ summary }}

## Vos ressources
{% if resources %}Nous avons trouvé {{ resource_count }} de vos ressources sur les systèmes \
concernés.
| Ressource | Région | Exposée depuis | Exposée jusqu'au | Exposition |
| --- | --- | --- | --- | --- |
{% for r in resources %}| {{ r.external_id }} | {{ r.region }} | {{ r.exposed_from }} | \
{{ r.fixed_at or "toujours exposée" }} | {{ r.exposure }} |
{% endfor %}{% else %}Aucune de vos ressources n'est plus concernée.{% endif %}

## État
{{ mitigation }}

## Ce que vous devez faire
Rien : nous l'avons corrigé pour vous.

## Contact
Répondez dans le portail ou écrivez à {{ contact }} en citant {{ case.tracking_id }}.
""",
)


async def _one(text_: str) -> AsyncIterator[bytes]:
    yield text_.encode()


async def _case_id(session: AsyncSession, context: DemoContext, search: str) -> int:
    return (
        (await cases.list_cases(session, viewer=None, now=context.now, search=search)).items[0].id
    )


async def _contoso_on_storage(session: AsyncSession, case_id: int) -> None:
    """Contoso (the demo customer) gets public storage endpoints, so that it is affected."""
    units = await session.execute(
        text(
            "SELECT r.key AS region, u.scale_unit FROM deployment_units u "
            "JOIN services s ON s.id = u.service_id JOIN regions r ON r.id = u.region_id "
            "WHERE s.key = 'storage' ORDER BY r.key, u.scale_unit LIMIT 3"
        )
    )
    rows = ["tenant,service,region,scale_unit,resource_id,tags"] + [
        f"contoso,storage,{u.region},{u.scale_unit},contoso-images-{i},public-endpoint"
        for i, u in enumerate(units)
    ]
    await importer.import_bundle(
        session, actor="demo", resources=(_one("\n".join(rows) + "\n"), "demo contoso.csv")
    )
    radius = await blast.get(session, case_id=case_id)
    await blast.compute(
        session,
        case_id=case_id,
        criteria=blast.BlastCriteria.model_validate(radius.criteria),
        actor="demo",
    )


async def _customers_answer(
    session: AsyncSession,
    advisory_id: int,
    *,
    answering: int,
    feedback: tuple[tuple[int, str], ...],
) -> None:
    """The first ``answering`` recipients (not Contoso, whose administrator the demo signs in
    as) acknowledge the advisory, and every third of them rates it with a comment."""
    contoso = await tenants.get_tenant_by_key(session, key="contoso")
    others = await session.scalars(
        text(
            "SELECT tenant_id FROM advisory_recipients WHERE advisory_id = :id "
            "AND tenant_id <> :contoso ORDER BY tenant_id LIMIT :n"
        ),
        {"id": advisory_id, "contoso": contoso.id, "n": answering},
    )
    for index, tenant_id in enumerate(list(others)):
        await portal.acknowledge(
            session, advisory_id=advisory_id, tenant_id=tenant_id, actor="customer@demo"
        )
        if index % 3 == 0:
            rating, comment = feedback[index // 3 % len(feedback)]
            await portal.give_feedback(
                session,
                advisory_id=advisory_id,
                tenant_id=tenant_id,
                rating=rating,
                comment=comment,
                actor="customer@demo",
            )


async def _contoso_asks(
    session: AsyncSession, context: DemoContext, *, case_id: int, advisory_id: int
) -> None:
    """Contoso's administrator marks one of its buckets checked and asks about what they see;
    the responder answers three hours later."""
    settings = get_settings()
    customer = await users.get_user_by_email(session, email=CUSTOMER)
    responder = await users.get_user_by_email(session, email=WRITER)
    assert customer.tenant_id is not None
    checked = await session.scalar(
        text("SELECT id FROM resources WHERE external_id = 'contoso-images-0'")
    )
    await resource_marks.mark(
        session,
        advisory_id=advisory_id,
        tenant_id=customer.tenant_id,
        resource_id=int(checked),
        status="checked",
        note="Public endpoint removed.",
        actor=CUSTOMER,
        now=context.now - timedelta(hours=21),
    )
    await conversation.ask(
        session,
        advisory_id=advisory_id,
        tenant_id=customer.tenant_id,
        author=users.principal_of(customer, via="session"),
        body="Nos journaux montrent encore des imports d'images depuis `contoso-images-1` vers "
        "`169.254.169.254` **après** la date du correctif. Ont-ils été bloqués, ou devons-nous "
        "faire quelque chose ?",
        settings=settings,
        now=context.now - timedelta(hours=20),
    )
    await conversation.answer(
        session,
        case_id=case_id,
        tenant_id=customer.tenant_id,
        author=users.principal_of(responder, via="session"),
        body="Ils ont été bloqués : depuis le correctif, l'importateur refuse les adresses "
        "link-local et journalise la tentative, c'est ce que vous voyez. Rien n'est à faire de "
        "votre côté.",
        settings=settings,
        now=context.now - timedelta(hours=17),
    )


async def _roles_advisory(session: AsyncSession, context: DemoContext) -> None:
    """The role-import case's customers are told what to do, so that its CVE record's timeline
    has the notification (before, an administrator's override stood in for it)."""
    settings = get_settings()
    roles = await _case_id(session, context, "Organisation owner through role import")
    await blast.compute(
        session,
        case_id=roles,
        criteria=blast.BlastCriteria(services=["identity"]),
        actor="demo",
    )
    await service.save_draft(
        session,
        case_id=roles,
        draft=DraftIn(
            title="A project administrator could become owner of your organisation",
            summary="Importing a role definition did not check who may grant the owner role. "
            "We switched role import off for project administrators until the check ships.",
            exposed_since=context.now - timedelta(days=12),
            action_required=True,
            action_steps="Review the owners of your organisations, and remove any you do not "
            "recognise.",
        ),
        actor=WRITER,
        settings=settings,
    )
    await service.decide(
        session,
        case_id=roles,
        actor=APPROVER,
        approve=True,
        comment=None,
        settings=settings,
        now=context.now,
    )
    await service.send(session, case_id=roles, actor=APPROVER, settings=settings, now=context.now)
    advisory = await service.find(session, case_id=roles)
    assert advisory is not None
    await _customers_answer(session, advisory.id, answering=36, feedback=ROLE_FEEDBACK)


async def seed_advisories(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    ssrf = await _case_id(session, context, "SSRF image importer")
    await _contoso_on_storage(session, ssrf)
    await service.save_draft(
        session,
        case_id=ssrf,
        draft=DraftIn(
            title="Image import could reach internal addresses",
            summary="The image importer of Object Storage followed redirects to link-local "
            "addresses. A bucket with a public endpoint could be used to make our servers "
            "fetch internal metadata. We found no sign that it was used against you.",
            exposed_since=context.now - timedelta(days=41),
            action_required=False,
        ),
        actor=WRITER,
        settings=settings,
    )
    await service.decide(
        session,
        case_id=ssrf,
        actor=APPROVER,
        approve=True,
        comment=None,
        settings=settings,
        now=context.now,
    )
    await translations.save(
        session, case_id=ssrf, language="fr", draft=FRENCH, actor=WRITER, settings=settings
    )
    await translations.decide(
        session,
        case_id=ssrf,
        language="fr",
        actor=APPROVER,
        approve=True,
        comment=None,
        settings=settings,
        now=context.now,
    )
    await service.send(session, case_id=ssrf, actor=APPROVER, settings=settings, now=context.now)
    advisory = await service.find(session, case_id=ssrf)
    assert advisory is not None
    await _customers_answer(session, advisory.id, answering=12, feedback=FEEDBACK)
    await _contoso_asks(session, context, case_id=ssrf, advisory_id=advisory.id)
    await _roles_advisory(session, context)
    log4j = await _case_id(session, context, "JNDI lookup log4j")
    await service.save_draft(
        session,
        case_id=log4j,
        draft=DraftIn(
            title="Older builds resolved JNDI lookups in logged strings",
            summary="Some Identity builds still carried log4j-core before 2.17.1.",
            exposed_since=context.now - timedelta(days=90),
            action_required=True,
            action_steps="Rotate the client secrets of your identity applications after "
            "the fix reaches your region.",
        ),
        actor=WRITER,
        settings=settings,
    )
