"""``vulnops user …`` and ``vulnops token …``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from vulnops.auth.roles import Role
from vulnops.cli.common import (
    JSON,
    cli_actor,
    console,
    group,
    print_json,
    print_table,
    run_in_session,
)
from vulnops.cli.common import settings as cli_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

users = group("Users and roles.")
tokens = group("API tokens.")


def _when(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return f"{value:{pattern}}" if value else ""


@users.command("create")
def create(
    email: str,
    role: Role = typer.Option(..., help="The user's role."),
    name: str = typer.Option("", help="Display name."),
    tenant: str | None = typer.Option(None, help="Tenant key (customers only)."),
    password: str | None = typer.Option(
        None,
        help="Initial password; generated and printed when omitted.",
        envvar="VULNOPS_NEW_PASSWORD",
    ),
) -> None:
    """Create a user."""
    chosen = password or secrets.token_urlsafe(12)

    async def work(session: AsyncSession) -> None:
        from vulnops.auth import service

        await service.create_user(
            session,
            email=email,
            password=chosen,
            role=role,
            display_name=name,
            tenant_key=tenant,
            actor=cli_actor(),
        )

    run_in_session(work)
    console.print(f"created {email} as {role.value}", highlight=False)
    if password is None:
        console.print(f"password: [bold]{chosen}[/bold]", highlight=False)


@users.command("list")
def list_users(
    role: Role | None = typer.Option(None, help="Only this role."),
    search: str | None = typer.Option(None, help="Part of an email or name."),
    page: int = typer.Option(1, min=1),
    as_json: bool = JSON,
) -> None:
    """List users, a page at a time."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        from vulnops.auth import service
        from vulnops.auth.schemas import UserOut

        found = await service.list_users(session, role=role, search=search, page=page)
        return {
            "items": [UserOut.model_validate(user).model_dump() for user in found.items],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
        }

    result = run_in_session(work)
    if as_json:
        print_json(result)
        return
    print_table(
        ("id", "email", "name", "role", "tenant", "state", "last sign-in"),
        [
            (
                str(u["id"]),
                u["email"],
                u["display_name"],
                u["role"],
                str(u["tenant_id"] or ""),
                "disabled" if u["disabled_at"] else "active",
                _when(u["last_login_at"]),
            )
            for u in result["items"]
        ],
        footer=f"page {result['page']} of {result['pages']} · {result['total']} users",
    )


def _set_disabled(email: str, disabled: bool) -> None:
    async def work(session: AsyncSession) -> None:
        from vulnops.auth import service

        user = await service.get_user_by_email(session, email=email)
        await service.update_user(session, user_id=user.id, actor=cli_actor(), disabled=disabled)

    run_in_session(work)
    console.print(f"{email} {'disabled' if disabled else 'enabled'}", highlight=False)


@users.command("disable")
def disable(email: str) -> None:
    """Disable a user: their sessions and tokens stop working at once."""
    _set_disabled(email, True)


@users.command("enable")
def enable(email: str) -> None:
    """Enable a disabled user again."""
    _set_disabled(email, False)


@tokens.command("create")
def create_token(
    email: str,
    name: str = typer.Option(..., help="What the token is for."),
    expires_in_days: int = typer.Option(
        90, min=1, help="Days it lives (at most VULNOPS_TOKEN_MAX_DAYS)."
    ),
) -> None:
    """Create an API token for a user; the secret is printed once."""

    async def work(session: AsyncSession) -> str:
        from vulnops.auth import service

        user = await service.get_user_by_email(session, email=email)
        _, secret = await service.create_token(
            session,
            user_id=user.id,
            name=name,
            expires_in_days=expires_in_days,
            max_days=cli_settings().token_max_days,
            actor=cli_actor(),
            now=datetime.now(UTC),
        )
        return secret

    secret = run_in_session(work)
    console.print("token (shown once, store it now):")
    console.print(secret, soft_wrap=True, highlight=False)


@tokens.command("list")
def list_tokens(email: str, as_json: bool = JSON) -> None:
    """List a user's tokens."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        from vulnops.auth import service
        from vulnops.auth.schemas import TokenOut

        user = await service.get_user_by_email(session, email=email)
        return [
            TokenOut.model_validate(token).model_dump()
            for token in await service.list_tokens(session, user_id=user.id)
        ]

    found = run_in_session(work)
    if as_json:
        print_json(found)
        return
    print_table(
        ("id", "name", "prefix", "expires", "revoked", "last used"),
        [
            (
                str(t["id"]),
                t["name"],
                t["prefix"] + "…",
                _when(t["expires_at"], "%Y-%m-%d") or "never",
                _when(t["revoked_at"], "%Y-%m-%d"),
                _when(t["last_used_at"]),
            )
            for t in found
        ],
    )


@tokens.command("revoke")
def revoke_token(email: str, token_id: int) -> None:
    """Revoke one of a user's tokens."""

    async def work(session: AsyncSession) -> None:
        from vulnops.auth import service

        user = await service.get_user_by_email(session, email=email)
        await service.revoke_token(
            session, user_id=user.id, token_id=token_id, actor=cli_actor(), now=datetime.now(UTC)
        )

    run_in_session(work)
    console.print(f"token {token_id} revoked")
