from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vulnops.auth.roles import STAFF_ROLES, Permission, Role, has_permission


@dataclass(frozen=True)
class Principal:
    """The signed-in user of one request."""

    user_id: int
    email: str
    display_name: str
    role: Role
    tenant_id: int | None
    via: Literal["session", "token"]

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def actor(self) -> str:
        """How the event log names this user."""
        return self.email
