from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vulnops.auth.roles import Role
from vulnops.db.base import Base, created_at_column

ROLE_VALUES = ", ".join(f"'{role.value}'" for role in Role)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # None for a self-registered account whose owner has not yet followed the emailed link.
    email_confirmed_at: Mapped[datetime | None]
    confirmation_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    confirmation_sent_at: Mapped[datetime | None]
    # Single sign-on: "<issuer>|<sub>" of the provider's account this user signs in with.
    sso_subject: Mapped[str | None] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="known_role"),
        CheckConstraint(
            "(role = 'customer') = (tenant_id IS NOT NULL)", name="customer_has_tenant"
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def awaiting_confirmation(self) -> bool:
        """Self-registered, and the emailed link not yet followed."""
        return self.confirmation_hash is not None and self.email_confirmed_at is None


class ApiToken(Base):
    """A bearer token; only the SHA-256 of the secret is kept (it is random, so that suffices)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]  # every token expires (VULNOPS_TOKEN_MAX_DAYS)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class UserSession(Base):
    """A signed-in browser. The cookie carries a random secret; only its SHA-256 is kept, and a
    session ends when its row says so (sign-out), whatever the cookie says."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    epoch: Mapped[int]  # the user's session_epoch when it began: a password change ends it
    address: Mapped[str] = mapped_column(String(100), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed sign-in, counted per account and per client address for rate limiting."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class RegistrationAttempt(Base):
    """A self-registration that was answered, counted per client address: registration is open
    to anyone, so without a limit one address could make accounts (and send email) by the
    thousand."""

    __tablename__ = "registration_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_registration_attempts_address_at", "address", "at"),)


class SecondFactor(Base):
    """A TOTP app or a passkey of a user. TOTP: ``totp_secret`` and ``last_step`` (the newest
    30-second step accepted: a code is good once). Passkey: the WebAuthn credential, its public
    key and its signature counter (a counter that does not grow means a cloned key)."""

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("kind IN ('totp', 'passkey')", name="known_kind"),
        CheckConstraint("(kind = 'totp') = (totp_secret IS NOT NULL)", name="totp_has_secret"),
        CheckConstraint(
            "(kind = 'passkey') = (credential_id IS NOT NULL AND public_key IS NOT NULL)",
            name="passkey_has_key",
        ),
    )


class RecoveryCode(Base):
    """A one-time code for when the second factor is lost (stored as SHA-256)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
