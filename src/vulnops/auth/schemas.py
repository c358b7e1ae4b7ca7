from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from vulnops.auth.roles import Role
from vulnops.db.bounded import Flag, Input


class UserCreate(Input):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    display_name: str = Field(default="", max_length=200)
    tenant_key: str | None = Field(
        default=None, description="Required for the customer role: the tenant the user administers."
    )


class Accepted(BaseModel):
    detail: str


class Registration(Input):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(default="", max_length=200)


class UserPatch(Input):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    tenant_key: str | None = None
    display_name: str | None = Field(default=None, max_length=200)
    disabled: Flag | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    tenant_id: int | None
    disabled_at: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class MeOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    tenant_id: int | None
    permissions: list[str]


class TokenCreate(Input):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int = Field(
        default=90, ge=1, le=3650, description="At most VULNOPS_TOKEN_MAX_DAYS (90 by default)."
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class SessionOut(BaseModel):
    """A sign-in that still lets its browser in."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    address: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = Field(default=False, description="The session of this very request.")


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown this once and never again.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str
    new_password: str
