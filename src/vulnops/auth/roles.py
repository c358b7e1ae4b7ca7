"""Who may do what: the one declarative table of roles and permissions.

Every route names a :class:`Rule` (see ``vulnops.auth.deps.require``); the app refuses to start if a
route has none, and the permission test walks every route for every role against this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    ENGINEER = "engineer"
    RELEASE_MANAGER = "release_manager"
    COMMUNICATIONS = "communications"
    RESEARCHER = "researcher"
    CUSTOMER = "customer"


STAFF_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.RESPONDER,
        Role.ENGINEER,
        Role.RELEASE_MANAGER,
        Role.COMMUNICATIONS,
    }
)


class Permission(StrEnum):
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RESPONDER: frozenset({Permission.AUDIT_READ}),
    Role.ENGINEER: frozenset(),
    Role.RELEASE_MANAGER: frozenset(),
    Role.COMMUNICATIONS: frozenset(),
    Role.RESEARCHER: frozenset(),
    Role.CUSTOMER: frozenset(),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class Rule:
    """What a route requires.

    ``permission`` None with ``authenticated`` False: anyone, signed in or not.
    ``hide``: a caller without the permission gets 404, as if the route's object did not exist.
    """

    permission: Permission | None = None
    authenticated: bool = True
    hide: bool = False

    def allows(self, role: Role | None) -> bool:
        if not self.authenticated:
            return True
        if role is None:
            return False
        return self.permission is None or has_permission(role, self.permission)

    def describe(self) -> str:
        if not self.authenticated:
            return "public"
        return self.permission.value if self.permission else "signed in"


PUBLIC = Rule(authenticated=False)
SIGNED_IN = Rule()


def allowed(permission: Permission, *, hide: bool = False) -> Rule:
    return Rule(permission=permission, hide=hide)
