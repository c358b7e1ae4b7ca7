"""An advisory version's translations: drafted per language on the advisory's page, each
approved by a second person like the original, checked to render before it is saved and again,
for a real tenant, before the version is sent.

Which tenant receives which translation is decided in SQL, by the statement that makes the
deliveries (:mod:`vulnops.notify.deliveries`); a translation waiting for approval stops the
send rather than be left out unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops import i18n
from vulnops.approvals import service as approvals
from vulnops.approvals.service import Step
from vulnops.audit import service as audit
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.errors import Conflict, Invalid, NotFound
from vulnops.notify import context
from vulnops.notify.models import Advisory, AdvisoryTranslation, AdvisoryVersion
from vulnops.notify.rendering import RenderError, render, render_limits
from vulnops.notify.schemas import TranslationIn
from vulnops.notify.withdrawal import refuse_if_withdrawn
from vulnops.settings import Settings
from vulnops.tenants.models import Tenant
from vulnops.tenants.preferences import language_tag

# The tenants of an audience who would read ``:language`` (its primary language is theirs): the
# recipients once a version was sent, the blast radius's tenants before.
_READERS = """
SELECT count(*) FROM tenants t
WHERE split_part(lower(t.language), '-', 1) = split_part(lower(:language), '-', 1)
  AND t.id IN (SELECT tenant_id FROM advisory_recipients WHERE advisory_id = :advisory_id
               UNION ALL
               SELECT tenant_id FROM blast_tenants WHERE case_id = :case_id
                 AND NOT EXISTS (SELECT 1 FROM advisory_recipients
                                 WHERE advisory_id = :advisory_id))
"""


def approval_subject(translation: AdvisoryTranslation) -> str:
    return f"advisory_translation:{translation.id}"


@dataclass(frozen=True)
class Saved:
    translation: AdvisoryTranslation
    note: str | None


async def of_versions(
    session: AsyncSession, *, version_ids: list[int]
) -> dict[int, list[AdvisoryTranslation]]:
    """The translations of each version, by language."""
    found: dict[int, list[AdvisoryTranslation]] = {v: [] for v in version_ids}
    rows = await session.scalars(
        select(AdvisoryTranslation)
        .where(AdvisoryTranslation.version_id.in_(version_ids))
        .order_by(AdvisoryTranslation.version_id, AdvisoryTranslation.language)
    )
    for row in rows:
        found[row.version_id].append(row)
    return found


async def _unsent_latest(session: AsyncSession, case_id: int) -> tuple[Advisory, AdvisoryVersion]:
    advisory = await session.scalar(select(Advisory).where(Advisory.case_id == case_id))
    if advisory is None:
        raise NotFound(f"case {case_id} has no advisory yet")
    refuse_if_withdrawn(advisory, "translating it")
    version = await session.scalar(
        select(AdvisoryVersion)
        .where(AdvisoryVersion.advisory_id == advisory.id)
        .order_by(AdvisoryVersion.number.desc())
        .limit(1)
        .with_for_update()
    )
    assert version is not None  # an advisory is made with its first version
    if version.status == "sent":
        raise Conflict(
            f"version {version.number} was sent and is not changed any more: write the next "
            "version, then translate it"
        )
    return advisory, version


async def _translation(
    session: AsyncSession, version: AdvisoryVersion, language: str, *, lock: bool = False
) -> AdvisoryTranslation:
    query = select(AdvisoryTranslation).where(
        AdvisoryTranslation.version_id == version.id, AdvisoryTranslation.language == language
    )
    found: AdvisoryTranslation | None = await session.scalar(
        query.with_for_update() if lock else query
    )
    if found is None:
        raise NotFound(f"version {version.number} has no {language} translation")
    return found


def _check_renders(
    case: Case, version: AdvisoryVersion, language: str, draft: TranslationIn, settings: Settings
) -> None:
    sample = context.sample_context(case, draft, settings, action_required=version.action_required)
    try:
        with i18n.speaking(language):
            render(draft.body, sample, limits=render_limits(settings))
    except RenderError as error:
        raise Invalid(f"body: the {language} translation does not render: {error}") from None


async def save(
    session: AsyncSession,
    *,
    case_id: int,
    language: str,
    draft: TranslationIn,
    actor: str,
    settings: Settings,
) -> Saved:
    """Write the ``language`` translation of the latest, unsent version; it waits for a second
    person's approval. A language none of the audience reads is kept, with a note saying so."""
    tag = language_tag(language)
    if tag.split("-")[0].lower() == i18n.SOURCE:
        raise Invalid(
            f"language: the original is in {i18n.SOURCE}; a translation is in another language",
            field="language",
        )
    case = await cases.get_case(session, case_id=case_id)
    advisory, version = await _unsent_latest(session, case_id)
    if version.action_required and not draft.action_steps:
        raise Invalid("action_steps: the version asks customers to act: say what, translated")
    _check_renders(case, version, tag, draft, settings)
    existing = await session.scalar(
        select(AdvisoryTranslation)
        .where(AdvisoryTranslation.version_id == version.id, AdvisoryTranslation.language == tag)
        .with_for_update()
    )
    translation = existing or AdvisoryTranslation(
        version_id=version.id, language=tag, created_by=actor
    )
    for field, value in draft.model_dump().items():
        setattr(translation, field, value)
    translation.status, translation.approved_by, translation.approved_at = "draft", None, None
    session.add(translation)
    await session.flush()
    await approvals.request(
        session,
        step=Step.ADVISORY,
        subject=approval_subject(translation),
        case_id=case_id,
        summary=(
            f"{tag} translation of advisory version {version.number} of {case.tracking_id}: "
            f"{translation.title}"
        ),
        author=actor,
    )
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.translated",
        actor=actor,
        data={"advisory": advisory.id, "version": version.number, "language": tag},
    )
    readers = await session.scalar(
        text(_READERS), {"language": tag, "advisory_id": advisory.id, "case_id": case_id}
    )
    note = None
    if not readers:
        note = (
            f"no tenant of this advisory's audience reads {tag}: the translation is kept, and "
            "goes to a tenant that chooses this language before the version is sent"
        )
    return Saved(translation, note)


async def decide(
    session: AsyncSession,
    *,
    case_id: int,
    language: str,
    actor: str,
    approve: bool,
    comment: str | None,
    settings: Settings,
    now: datetime,
) -> AdvisoryTranslation:
    """The sign-off of a translation, by someone who did not write it (four eyes)."""
    _, version = await _unsent_latest(session, case_id)
    translation = await _translation(session, version, language_tag(language), lock=True)
    await approvals.decide(
        session,
        subject=approval_subject(translation),
        actor=actor,
        approve=approve,
        comment=comment,
        settings=settings,
        now=now,
    )
    if approve:
        translation.status, translation.approved_by, translation.approved_at = (
            "approved",
            actor,
            now,
        )
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.translation_approved" if approve else "advisory.translation_rejected",
        actor=actor,
        data={"version": version.number, "language": translation.language, "comment": comment},
    )
    return translation


async def remove(session: AsyncSession, *, case_id: int, language: str, actor: str) -> None:
    """Drop a translation of the unsent version (and what waits for its approval)."""
    _, version = await _unsent_latest(session, case_id)
    translation = await _translation(session, version, language_tag(language), lock=True)
    await approvals.withdraw(session, subject=approval_subject(translation), actor=actor)
    await session.execute(
        delete(AdvisoryTranslation).where(AdvisoryTranslation.id == translation.id)
    )
    await audit.record(
        session,
        subject=cases.subject(case_id),
        kind="advisory.translation_removed",
        actor=actor,
        data={"version": version.number, "language": translation.language},
    )


async def reopen(
    session: AsyncSession, *, case_id: int, version: AdvisoryVersion, actor: str
) -> None:
    """The original changed: each approved translation of it waits for approval again."""
    approved = list(
        await session.scalars(
            select(AdvisoryTranslation).where(
                AdvisoryTranslation.version_id == version.id,
                AdvisoryTranslation.status == "approved",
            )
        )
    )
    for translation in approved:
        translation.status, translation.approved_by, translation.approved_at = "draft", None, None
        await approvals.request(
            session,
            step=Step.ADVISORY,
            subject=approval_subject(translation),
            case_id=case_id,
            summary=f"{translation.language} translation of advisory version {version.number} "
            "(the original changed)",
            author=actor,
        )


async def check_waiting(session: AsyncSession, *, version: AdvisoryVersion) -> None:
    """Refuse the send while a translation of the version waits for approval."""
    found = (await of_versions(session, version_ids=[version.id]))[version.id]
    waiting = [t.language for t in found if t.status != "approved"]
    if waiting:
        raise Conflict(
            f"nothing was sent: the {', '.join(waiting)} translation waits for approval; "
            "approve it or remove it first"
        )


# One recipient per translation the deliveries carry: the one each is checked against.
_ONE_READER = """
SELECT DISTINCT ON (d.language) d.language, d.tenant_id FROM deliveries d
WHERE d.version_id = :version_id AND d.reminder = 0 AND d.language IS NOT NULL
ORDER BY d.language, d.tenant_id
"""


async def check_renders(
    session: AsyncSession,
    *,
    case: Case,
    version: AdvisoryVersion,
    now: datetime,
    settings: Settings,
) -> None:
    """Each translation the deliveries of ``version`` carry, rendered for one of its readers
    (in the send's transaction: a refusal writes nothing)."""
    rows = await session.execute(text(_ONE_READER), {"version_id": version.id})
    readers: dict[str, int] = {row.language: row.tenant_id for row in rows}
    if not readers:
        return
    translated = await of_versions(session, version_ids=[version.id])
    found = {t.language: t for t in translated[version.id]}
    for language, tenant_id in sorted(readers.items()):
        translation, tenant = found[language], await session.get(Tenant, tenant_id)
        assert tenant is not None
        exposed = await context.tenant_exposure(session, case_id=case.id, tenant_id=tenant.id)
        try:
            context.text_for(
                case=case,
                version=version,
                translation=translation,
                tenant=tenant,
                exposed=exposed,
                now=now,
                settings=settings,
            )
        except RenderError as error:
            raise Invalid(
                f"nothing was sent: the {language} translation does not render for tenant "
                f"{tenant.key}: {error}"
            ) from None
