"""Who may do what: the one declarative table of roles and permissions.

Every route names a :class:`Rule` (see ``vulnops.auth.deps.require``); the app refuses to start if a
route has none, and the permission test walks every route for every role against this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vulnops.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    ENGINEER = "engineer"
    RELEASE_MANAGER = "release_manager"
    COMMUNICATIONS = "communications"
    RESEARCHER = "researcher"
    PARTNER = "partner"
    CUSTOMER = "customer"

    @property
    def label(self) -> str:
        """The role's name as a person reads it (in English: templates translate it)."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: N_("admin"),
    Role.RESPONDER: N_("responder"),
    Role.ENGINEER: N_("engineer"),
    Role.RELEASE_MANAGER: N_("release manager"),
    Role.COMMUNICATIONS: N_("communications"),
    Role.RESEARCHER: N_("researcher"),
    Role.PARTNER: N_("partner"),
    Role.CUSTOMER: N_("customer"),
}

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
    # Submit reports from outside (as a researcher or partner).
    REPORTS_SUBMIT = "reports:submit"
    # Submit internal findings: exercise results, scanner (SARIF) imports.
    REPORTS_SUBMIT_INTERNAL = "reports:submit_internal"
    # See reports: one's own, or all of them with REPORTS_READ_ALL.
    REPORTS_VIEW = "reports:view"
    REPORTS_READ_ALL = "reports:read_all"
    # Assess reports: ask for information, triage, close, merge into cases, reply as staff.
    REPORTS_TRIAGE = "reports:triage"
    CASES_READ = "cases:read"
    # Open cases, assign them, assess severity.
    CASES_MANAGE = "cases:manage"
    # Move a case along its lifecycle.
    CASES_PROGRESS = "cases:progress"
    # The fleet inventory: read it; import, export and generate it.
    FLEET_READ = "fleet:read"
    FLEET_MANAGE = "fleet:manage"
    # A customer's view of their own tenant and its resources.
    TENANT_OWN = "tenant:own"
    # Fixes: create them and upload their test evidence; let one roll out without it.
    FIXES_MANAGE = "fixes:manage"
    FIXES_OVERRIDE = "fixes:override"
    # Rollouts: see them; start, pause, resume, abort, roll back; approve another's.
    ROLLOUTS_READ = "rollouts:read"
    ROLLOUTS_MANAGE = "rollouts:manage"
    ROLLOUTS_APPROVE = "rollouts:approve"
    # Customer advisories: read them and their deliveries; draft them; approve a version (the
    # communications sign-off); send an approved version; resend dead deliveries.
    ADVISORIES_READ = "advisories:read"
    ADVISORIES_WRITE = "advisories:write"
    ADVISORIES_APPROVE = "advisories:approve"
    ADVISORIES_SEND = "advisories:send"
    DELIVERIES_MANAGE = "deliveries:manage"
    # Disclosure: reserve and publish CVEs, mark a case as no CVE, disclose a case publicly.
    DISCLOSURE_MANAGE = "disclosure:manage"
    # On call: see schedules, policies and pages; acknowledge and resolve pages; import the
    # schedules and escalation policies.
    ONCALL_READ = "oncall:read"
    ONCALL_RESPOND = "oncall:respond"
    ONCALL_MANAGE = "oncall:manage"
    # Bug bounty: see programmes and awards; propose, adjust and submit awards; approve another's
    # award; run programmes; finance (payee profiles, payouts, their answers, the export).
    BOUNTY_READ = "bounty:read"
    BOUNTY_AWARD = "bounty:award"
    BOUNTY_APPROVE = "bounty:approve"
    BOUNTY_MANAGE = "bounty:manage"
    BOUNTY_FINANCE = "bounty:finance"
    # Root causes and variants: write root causes and structural improvements, run variant
    # hunts, decide their findings, link cases, close weakness classes.
    VARIANTS_HUNT = "variants:hunt"
    # Post-incident reviews: write their sections and action items, submit and approve them.
    REVIEWS_WRITE = "reviews:write"


P = Permission
_EXTERNAL_REPORTER = frozenset({P.REPORTS_SUBMIT, P.REPORTS_VIEW})
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RESPONDER: frozenset(
        {
            P.AUDIT_READ,
            P.REPORTS_SUBMIT_INTERNAL,
            P.REPORTS_VIEW,
            P.REPORTS_READ_ALL,
            P.REPORTS_TRIAGE,
            P.CASES_READ,
            P.CASES_MANAGE,
            P.CASES_PROGRESS,
            P.FLEET_READ,
            P.FIXES_MANAGE,
            P.ROLLOUTS_READ,
            P.ROLLOUTS_MANAGE,
            P.ROLLOUTS_APPROVE,
            P.ADVISORIES_READ,
            P.ADVISORIES_WRITE,
            P.ADVISORIES_SEND,
            P.DELIVERIES_MANAGE,
            P.ONCALL_READ,
            P.ONCALL_RESPOND,
            P.ONCALL_MANAGE,
            P.BOUNTY_READ,
            P.BOUNTY_AWARD,
            P.VARIANTS_HUNT,
            P.REVIEWS_WRITE,
        }
    ),
    Role.ENGINEER: frozenset(
        {
            P.REPORTS_SUBMIT_INTERNAL,
            P.REPORTS_VIEW,
            P.REPORTS_READ_ALL,
            P.CASES_READ,
            P.CASES_PROGRESS,
            P.FLEET_READ,
            P.FLEET_MANAGE,
            P.FIXES_MANAGE,
            P.ROLLOUTS_READ,
            P.ADVISORIES_READ,
            P.ONCALL_READ,
            P.ONCALL_RESPOND,
            P.VARIANTS_HUNT,
            P.REVIEWS_WRITE,
        }
    ),
    Role.RELEASE_MANAGER: frozenset(
        {
            P.CASES_READ,
            P.CASES_PROGRESS,
            P.FLEET_READ,
            P.FLEET_MANAGE,
            P.ROLLOUTS_READ,
            P.ROLLOUTS_MANAGE,
            P.ROLLOUTS_APPROVE,
            P.ONCALL_READ,
            P.ONCALL_RESPOND,
            P.REVIEWS_WRITE,
        }
    ),
    Role.COMMUNICATIONS: frozenset(
        {
            P.CASES_READ,
            P.FLEET_READ,
            P.ROLLOUTS_READ,
            P.ADVISORIES_READ,
            P.ADVISORIES_WRITE,
            P.ADVISORIES_APPROVE,
            P.ADVISORIES_SEND,
            P.DELIVERIES_MANAGE,
            P.DISCLOSURE_MANAGE,
            P.ONCALL_READ,
            P.REVIEWS_WRITE,
        }
    ),
    Role.RESEARCHER: _EXTERNAL_REPORTER,
    Role.PARTNER: _EXTERNAL_REPORTER,
    Role.CUSTOMER: frozenset({P.TENANT_OWN}),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class Rule:
    """What a route requires.

    ``permissions`` empty with ``authenticated`` False: anyone, signed in or not; empty with
    ``authenticated`` True: anyone signed in; otherwise any one of the permissions.
    ``hide``: a caller without the permission gets 404, as if the route's object did not exist.
    """

    permissions: frozenset[Permission] = frozenset()
    authenticated: bool = True
    hide: bool = False

    def allows(self, role: Role | None) -> bool:
        if not self.authenticated:
            return True
        if role is None:
            return False
        return not self.permissions or any(has_permission(role, p) for p in self.permissions)

    def describe(self) -> str:
        if not self.authenticated:
            return "public"
        return " or ".join(sorted(p.value for p in self.permissions)) or "signed in"


PUBLIC = Rule(authenticated=False)
SIGNED_IN = Rule()


def allowed(*permissions: Permission, hide: bool = False) -> Rule:
    """A rule met by any one of ``permissions``."""
    return Rule(permissions=frozenset(permissions), hide=hide)
