"""``vulnops advisory translate …``: the latest version's text in another language, approved
by a second person like the original (:func:`add_to` puts the commands in ``vulnops advisory``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vulnops.auth.roles import Permission
from vulnops.cli.common import JSON, acting_as, console, print_json, print_table, run_in_session
from vulnops.cli.common import settings as loaded_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

AS = typer.Option(None, "--as", help="Act as this account (email).")
CASE = typer.Argument(..., help="The case's tracking id.")
LANGUAGE = typer.Argument(..., help="A BCP 47 tag: fr, de, pt-BR.")


async def _case_id(session: AsyncSession, tracking_id: str) -> int:
    from vulnops.cases import service as cases

    return (await cases.get_case_by_tracking_id(session, tracking_id=tracking_id)).id


def translate(
    case: str = CASE,
    language: str = LANGUAGE,
    title: str = typer.Option(..., "--title"),
    summary: str = typer.Option(..., "--summary", help="What happened, and when, translated."),
    template: Path = typer.Option(
        ..., "--template", exists=True, dir_okay=False, help="The translated Jinja2 body."
    ),
    action_steps: str = typer.Option("", "--action-steps", help="What to do, translated."),
    as_user: str | None = AS,
) -> None:
    """Write (or rewrite) the latest unsent version's translation; it waits for approval."""
    body = template.read_text()

    async def work(session: AsyncSession) -> tuple[str, str | None]:
        from vulnops.notify import translations
        from vulnops.notify.schemas import TranslationIn

        actor = await acting_as(session, as_user, Permission.ADVISORIES_WRITE)
        saved = await translations.save(
            session,
            case_id=await _case_id(session, case),
            language=language,
            draft=TranslationIn(title=title, summary=summary, action_steps=action_steps, body=body),
            actor=actor,
            settings=loaded_settings(),
        )
        return saved.translation.language, saved.note

    tag, note = run_in_session(work)
    console.print(f"{tag} translation saved; it needs approval")
    if note:
        console.print(f"note: {note}")


def _decide(
    case: str, language: str, as_user: str | None, *, approve: bool, comment: str | None
) -> str:
    async def work(session: AsyncSession) -> str:
        from vulnops.errors import Invalid
        from vulnops.notify import translations

        if as_user is None:
            raise Invalid("--as: name the approver (an account's email)")
        actor = await acting_as(session, as_user, Permission.ADVISORIES_APPROVE)
        translation = await translations.decide(
            session,
            case_id=await _case_id(session, case),
            language=language,
            actor=actor,
            approve=approve,
            comment=comment,
            settings=loaded_settings(),
            now=datetime.now(UTC),
        )
        return translation.language

    return run_in_session(work)


def approve_translation(
    case: str = CASE,
    language: str = LANGUAGE,
    as_user: str | None = typer.Option(None, "--as", help="The approver."),
    comment: str | None = typer.Option(None, "--comment", help="Kept with the approval."),
) -> None:
    """Approve a translation: someone who did not write it (four eyes)."""
    tag = _decide(case, language, as_user, approve=True, comment=comment)
    console.print(f"{tag} translation approved")


def reject_translation(
    case: str = CASE,
    language: str = LANGUAGE,
    comment: str = typer.Option(..., "--comment", help="Why: its author reads it."),
    as_user: str | None = typer.Option(None, "--as", help="The approver."),
) -> None:
    """Send a translation back to its authors with a comment."""
    tag = _decide(case, language, as_user, approve=False, comment=comment)
    console.print(f"{tag} translation sent back")


def remove_translation(
    case: str = CASE, language: str = LANGUAGE, as_user: str | None = AS
) -> None:
    """Drop a translation of the unsent version (its tenants then receive the original)."""

    async def work(session: AsyncSession) -> None:
        from vulnops.notify import translations

        actor = await acting_as(session, as_user, Permission.ADVISORIES_WRITE)
        await translations.remove(
            session, case_id=await _case_id(session, case), language=language, actor=actor
        )

    run_in_session(work)
    console.print(f"{language} translation removed")


def list_translations(case: str = CASE, as_json: bool = JSON) -> None:
    """Each version's translations, and once sent how many tenants received each."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        from vulnops.errors import NotFound
        from vulnops.notify import advisory_view

        shown = await advisory_view.overview(session, case_id=await _case_id(session, case))
        if shown is None:
            raise NotFound(f"{case} has no advisory yet")
        return [
            {"version": v["number"], **t, "sent_to": v["languages"].get(t["language"], 0)}
            for v in shown["versions"]
            for t in v["translations"]
        ]

    found = run_in_session(work)
    if as_json:
        print_json(found)
        return
    print_table(
        ("version", "language", "title", "status", "approved by", "sent to"),
        [
            (
                str(t["version"]),
                t["language"],
                t["title"],
                t["status"],
                t["approved_by"] or "",
                str(t["sent_to"]),
            )
            for t in found
        ],
        footer=f"{len(found)} translations",
    )


def add_to(group: typer.Typer) -> None:
    """The commands, in ``vulnops advisory``."""
    for name, command in (
        ("translate", translate),
        ("approve-translation", approve_translation),
        ("reject-translation", reject_translation),
        ("remove-translation", remove_translation),
        ("translations", list_translations),
    ):
        group.command(name)(command)
