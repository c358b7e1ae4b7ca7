"""Use cases for users, sign-in and API tokens. Callers own the transaction (they commit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import passwords, ratelimit, tokens
from vulnops.auth.models import ApiToken, User
from vulnops.auth.principal import Principal
from vulnops.auth.roles import Role
from vulnops.db.pagination import Page, paginate_scalars
from vulnops.db.writes import add_unique
from vulnops.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from vulnops.tenants import service as tenants

TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
WRONG = (
    "wrong email or password (a new researcher account signs in once its address is "
    "confirmed: follow the link we emailed)"
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def principal_of(user: User, *, via: str) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name or user.email,
        role=user.role_enum,
        tenant_id=user.tenant_id,
        via="token" if via == "token" else "session",
    )


async def _tenant_for(session: AsyncSession, *, role: Role, tenant_key: str | None) -> int | None:
    if role is Role.CUSTOMER:
        if not tenant_key:
            raise Invalid("a customer must be bound to a tenant: give tenant_key")
        return (await tenants.get_tenant_by_key(session, key=tenant_key)).id
    if tenant_key:
        raise Invalid(f"only customers belong to a tenant, not the {role.value} role")
    return None


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: Role,
    actor: str,
    display_name: str = "",
    tenant_key: str | None = None,
) -> User:
    email = normalize_email(email)
    passwords.check_strength(password, email=email)
    tenant_id = await _tenant_for(session, role=role, tenant_key=tenant_key)
    user = User(
        email=email,
        display_name=display_name.strip(),
        role=role.value,
        tenant_id=tenant_id,
        password_hash=await passwords.hash_password(password),
        email_confirmed_at=datetime.now(UTC),  # an administrator (or the demo) vouches for it
    )
    await add_unique(session, user, conflict=f"an account with the email {email} already exists")
    await audit.record(
        session,
        subject=f"user:{user.id}",
        kind="user.created",
        actor=actor,
        data={"email": email, "role": role.value, "tenant_id": tenant_id},
    )
    return user


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


async def display_names(session: AsyncSession, *, user_ids: set[int]) -> dict[int, str]:
    """How the pages name these users (their display name, else their email)."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.display_name, User.email).where(User.id.in_(user_ids))
    )
    return {row.id: row.display_name or row.email for row in rows}


async def assignable(session: AsyncSession) -> list[User]:
    """People a case, or an action of it, can be given to: active engineers and responders."""
    people: list[User] = []
    for role in (Role.ENGINEER, Role.RESPONDER):
        page = await list_users(session, role=role, per_page=200)
        people += [user for user in page.items if not user.disabled]
    return people


async def get_user_by_email(session: AsyncSession, *, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"no user with the email {normalize_email(email)}")
    return user


async def list_users(
    session: AsyncSession,
    *,
    role: Role | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[User]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(User.email.like(pattern), func.lower(User.display_name).like(pattern))
        )
    return await paginate_scalars(session, stmt.order_by(User.id), page=page, per_page=per_page)


async def update_user(
    session: AsyncSession,
    *,
    user_id: int,
    actor: Principal | str,
    role: Role | None = None,
    tenant_key: str | None = None,
    display_name: str | None = None,
    disabled: bool | None = None,
) -> User:
    user = await get_user(session, user_id=user_id)
    actor_name = actor.actor if isinstance(actor, Principal) else actor
    if isinstance(actor, Principal) and actor.user_id == user_id and (disabled or role):
        raise Forbidden("you cannot disable yourself or change your own role")
    changes: dict[str, object] = {}
    if role is not None or tenant_key is not None:
        new_role = role or user.role_enum
        if new_role is Role.CUSTOMER and tenant_key is None and user.tenant_id is not None:
            new_tenant: int | None = user.tenant_id
        else:
            new_tenant = await _tenant_for(session, role=new_role, tenant_key=tenant_key)
        if new_role.value != user.role or new_tenant != user.tenant_id:
            changes.update(role=new_role.value, tenant_id=new_tenant)
            user.role, user.tenant_id = new_role.value, new_tenant
            user.session_epoch += 1
    if display_name is not None and display_name.strip() != user.display_name:
        user.display_name = display_name.strip()
        changes["display_name"] = user.display_name
    if disabled is not None and disabled != user.disabled:
        user.disabled_at = func.now() if disabled else None
        user.session_epoch += 1
        changes["disabled"] = disabled
    if changes:
        await session.flush()
        await session.refresh(user)
        kind = "user.disabled" if changes.get("disabled") is True else "user.updated"
        await audit.record(
            session, subject=f"user:{user.id}", kind=kind, actor=actor_name, data=changes
        )
    return user


async def authenticate(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    address: str,
    limits: ratelimit.LoginLimits,
    now: datetime,
) -> User:
    """Check an email and password (the first step of a sign-in; :func:`signed_in` ends it). A
    failure is written (for the rate limit) before the error is raised: commit in every case."""
    email = normalize_email(email)
    await ratelimit.check(session, email=email, address=address, limits=limits, now=now)
    user = await session.scalar(select(User).where(User.email == email))
    ok = await passwords.verify_password(
        user.password_hash if user else passwords.dummy_hash(), password
    )
    if user is None or not ok or user.awaiting_confirmation:
        # An account waiting for its emailed link answers like a wrong password: otherwise
        # registering an address and signing in would tell whether it was taken.
        await ratelimit.record_failure(session, email=email, address=address)
        raise Unauthenticated(WRONG)
    if user.disabled:
        raise Forbidden("this account is disabled; ask an administrator")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
    return user


async def signed_in(
    session: AsyncSession, *, user: User, address: str, how: str, now: datetime
) -> None:
    """The whole sign-in passed (the password, and the second factor when there is one): the
    account's failure count is cleared, and the sign-in recorded."""
    await ratelimit.clear_account(session, email=user.email)
    user.last_login_at = now
    await audit.record(
        session,
        subject=f"user:{user.id}",
        kind="user.signed_in",
        actor=user.email,
        data={"address": address, "how": how},
    )


async def change_password(
    session: AsyncSession, *, principal: Principal, current_password: str, new_password: str
) -> User:
    user = await get_user(session, user_id=principal.user_id)
    if not await passwords.verify_password(user.password_hash, current_password):
        raise Invalid("the current password is wrong")
    passwords.check_strength(new_password, email=user.email)
    user.password_hash = await passwords.hash_password(new_password)
    user.session_epoch += 1
    await audit.record(
        session, subject=f"user:{user.id}", kind="user.password_changed", actor=principal.actor
    )
    return user


async def create_token(
    session: AsyncSession,
    *,
    user_id: int,
    name: str,
    expires_in_days: int,
    max_days: int,
    actor: str,
    now: datetime,
) -> tuple[ApiToken, str]:
    """Create a token that expires within ``max_days``; the secret is returned here once and
    never stored."""
    if not 1 <= expires_in_days <= max_days:
        raise Invalid(
            f"expires_in_days: a token lives from 1 to {max_days} days "
            "(VULNOPS_TOKEN_MAX_DAYS); none lives for ever"
        )
    user = await get_user(session, user_id=user_id)
    if user.disabled:
        raise Conflict("a disabled user cannot get a token")
    secret = tokens.new_secret()
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=tokens.display_prefix(secret),
        secret_hash=tokens.secret_hash(secret),
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(token)
    await session.flush()
    await audit.record(
        session,
        subject=f"user:{user.id}",
        kind="token.created",
        actor=actor,
        data={"token_id": token.id, "name": token.name, "expires_at": token.expires_at},
    )
    return token, secret


async def list_tokens(session: AsyncSession, *, user_id: int) -> list[ApiToken]:
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )
    return list(rows)


async def revoke_token(
    session: AsyncSession, *, user_id: int, token_id: int, actor: str, now: datetime
) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now
        await audit.record(
            session,
            subject=f"user:{user_id}",
            kind="token.revoked",
            actor=actor,
            data={"token_id": token_id, "name": token.name},
        )
    return token


async def user_for_token(session: AsyncSession, *, secret: str, now: datetime) -> tuple[User, bool]:
    """The user a bearer token stands for, or 401 saying what is wrong with the token; and
    whether the token's last use was written (then the caller commits)."""
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.secret_hash == tokens.secret_hash(secret))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("unknown API token")
    token, user = row
    if token.revoked_at is not None:
        raise Unauthenticated("this API token was revoked")
    if token.expires_at <= now:
        raise Unauthenticated("this API token has expired")
    if user.disabled:
        raise Unauthenticated("the account of this API token is disabled")
    touched = token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL
    if touched:
        await session.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
        )
    return user, touched
