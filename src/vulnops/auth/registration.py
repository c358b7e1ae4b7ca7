"""Self-registration with email confirmation.

Registration answers the same whether the address is new or taken, so nobody can test which
accounts exist: a new address gets an account waiting for confirmation and a link to confirm
it; a taken one gets an email telling its owner that someone tried (with a link to sign in).
Both paths hash the password, so they take as long. An unconfirmed account registered again
gets the new password and a new link (the old link stops working): whoever reads the inbox
decides. Nothing is sent, and nobody can register, without SMTP. One client address gets
``VULNOPS_REGISTRATIONS_PER_ADDRESS_PER_HOUR`` answers an hour (``ratelimit``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.audit import service as audit
from vulnops.auth import passwords, ratelimit, tokens
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.auth.service import normalize_email
from vulnops.errors import DomainError, Invalid
from vulnops.mail import service as mail
from vulnops.settings import Settings

CONFIRMATION_VALID = timedelta(hours=48)
ANSWER = (
    "Check your inbox at {email}: we sent a link to confirm the address. "
    "Follow it within 48 hours to start using your account."
)


class RegistrationClosed(DomainError):
    status = 503
    title = "Registration unavailable"


async def register_researcher(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    address: str,
    settings: Settings,
    now: datetime,
) -> str:
    """Anyone may ask to become a researcher (and only that); the answer, the same for a new
    and a taken address. ``address``: the client's, whose registrations are limited. The
    caller commits."""
    email = normalize_email(email)
    passwords.check_strength(password, email=email)
    if not settings.smtp_enabled:
        raise RegistrationClosed(
            "self-registration needs email to confirm the address, and this installation has "
            "none (VULNOPS_SMTP_HOST); ask the security team for an account"
        )
    await ratelimit.admit_registration(
        session, address=address, per_hour=settings.registrations_per_address_per_hour, now=now
    )
    password_hash = await passwords.hash_password(password)
    user = await session.scalar(select(User).where(User.email == email).with_for_update())
    if user is not None and not user.awaiting_confirmation:
        await mail.queue(
            session,
            settings=settings,
            to=email,
            template="registration_taken",
            context={"sign_in": f"{settings.public_url.rstrip('/')}/login"},
            kind="registration_taken",
            about=f"user:{user.id}",
        )
        return ANSWER.format(email=email)
    secret = tokens.new_secret()
    if user is None:
        user = User(
            email=email,
            display_name=display_name.strip(),
            role=Role.RESEARCHER.value,
            password_hash=password_hash,
        )
        session.add(user)
    else:
        user.display_name, user.password_hash = display_name.strip(), password_hash
    user.confirmation_hash = tokens.secret_hash(secret)
    user.confirmation_sent_at = now
    await session.flush()
    await audit.record(
        session,
        subject=f"user:{user.id}",
        kind="user.registered",
        actor=email,
        data={"email": email, "role": Role.RESEARCHER.value},
    )
    await mail.queue(
        session,
        settings=settings,
        to=email,
        template="registration_confirm",
        context={"link": f"{settings.public_url.rstrip('/')}/register/confirm?token={secret}"},
        kind="registration_confirm",
        about=f"user:{user.id}",
    )
    return ANSWER.format(email=email)


async def confirm(session: AsyncSession, *, secret: str, now: datetime) -> User:
    """The account the link confirms, now usable (the caller commits)."""
    user = await session.scalar(
        select(User).where(User.confirmation_hash == tokens.secret_hash(secret)).with_for_update()
    )
    sent = user.confirmation_sent_at if user else None
    if user is None or sent is None or now > sent + CONFIRMATION_VALID:
        raise Invalid(
            "this confirmation link is unknown, used or older than 48 hours; register again "
            "to get a new one"
        )
    user.email_confirmed_at, user.confirmation_hash = now, None
    await audit.record(
        session, subject=f"user:{user.id}", kind="user.confirmed", actor=user.email, data={}
    )
    return user
