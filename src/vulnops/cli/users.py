"""``vulnops user …`` and ``vulnops token …``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service
from vulnops.auth.roles import Role
from vulnops.cli.common import cli_actor, console, run_in_session

users = typer.Typer(help="Users and roles.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)


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
    console.print(f"created {email} as {role.value}")
    if password is None:
        console.print(f"password: [bold]{chosen}[/bold]")


@users.command("list")
def list_users(
    role: Role | None = typer.Option(None, help="Only this role."),
    search: str | None = typer.Option(None, help="Part of an email or name."),
    page: int = typer.Option(1, min=1),
) -> None:
    """List users, a page at a time."""

    async def work(session: AsyncSession) -> None:
        result = await service.list_users(session, role=role, search=search, page=page)
        table = Table("id", "email", "name", "role", "tenant", "state", "last sign-in")
        for user in result.items:
            table.add_row(
                str(user.id),
                user.email,
                user.display_name,
                user.role,
                str(user.tenant_id or ""),
                "disabled" if user.disabled else "active",
                f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "",
            )
        console.print(table)
        console.print(f"page {result.page} of {result.pages} · {result.total} users")

    run_in_session(work)


def _set_disabled(email: str, disabled: bool) -> None:
    async def work(session: AsyncSession) -> None:
        user = await service.get_user_by_email(session, email=email)
        await service.update_user(session, user_id=user.id, actor=cli_actor(), disabled=disabled)

    run_in_session(work)
    console.print(f"{email} {'disabled' if disabled else 'enabled'}")


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
    expires_in_days: int = typer.Option(90, min=0, help="0: never expires."),
) -> None:
    """Create an API token for a user; the secret is printed once."""

    async def work(session: AsyncSession) -> str:
        user = await service.get_user_by_email(session, email=email)
        _, secret = await service.create_token(
            session,
            user_id=user.id,
            name=name,
            expires_in_days=expires_in_days or None,
            actor=cli_actor(),
            now=datetime.now(UTC),
        )
        return secret

    secret = run_in_session(work)
    console.print("token (shown once, store it now):")
    console.print(secret, soft_wrap=True, highlight=False)


@tokens.command("list")
def list_tokens(email: str) -> None:
    """List a user's tokens."""

    async def work(session: AsyncSession) -> None:
        user = await service.get_user_by_email(session, email=email)
        table = Table("id", "name", "prefix", "expires", "revoked", "last used")
        for token in await service.list_tokens(session, user_id=user.id):
            table.add_row(
                str(token.id),
                token.name,
                token.prefix + "…",
                f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never",
                f"{token.revoked_at:%Y-%m-%d}" if token.revoked_at else "",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "",
            )
        console.print(table)

    run_in_session(work)


@tokens.command("revoke")
def revoke_token(email: str, token_id: int) -> None:
    """Revoke one of a user's tokens."""

    async def work(session: AsyncSession) -> None:
        user = await service.get_user_by_email(session, email=email)
        await service.revoke_token(
            session, user_id=user.id, token_id=token_id, actor=cli_actor(), now=datetime.now(UTC)
        )

    run_in_session(work)
    console.print(f"token {token_id} revoked")
