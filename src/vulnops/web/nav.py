"""The navigation bar: each entry shows only to principals its rule allows."""

from __future__ import annotations

from dataclasses import dataclass

from vulnops.auth.principal import Principal
from vulnops.auth.roles import SIGNED_IN, Permission, Role, Rule, allowed
from vulnops.i18n import N_


@dataclass(frozen=True)
class NavItem:
    label: str  # in English: the page translates it
    href: str
    rule: Rule
    # Only for someone bound to a tenant (a customer): an administrator has every permission
    # but no tenant of their own, and these pages would be empty for them.
    tenant: bool = False
    # Only when the demo's inbox runs (VULNOPS_DEMO_INBOX).
    demo: bool = False
    # Only for a researcher (staff may submit reports too, but have no awards of their own).
    researcher: bool = False


NAV: tuple[NavItem, ...] = (
    NavItem(N_("Dashboard"), "/", SIGNED_IN),
    NavItem(N_("Reports"), "/reports", allowed(Permission.REPORTS_VIEW)),
    NavItem(N_("Cases"), "/cases", allowed(Permission.CASES_READ)),
    NavItem(N_("Rollouts"), "/rollouts", allowed(Permission.ROLLOUTS_READ)),
    NavItem(N_("On call"), "/oncall", allowed(Permission.ONCALL_READ)),
    NavItem(N_("Approvals"), "/approvals", allowed(Permission.CASES_READ)),
    NavItem(N_("Deliveries"), "/notifications/deliveries", allowed(Permission.ADVISORIES_READ)),
    NavItem(N_("Fleet"), "/fleet/services", allowed(Permission.FLEET_READ)),
    NavItem(N_("Classes"), "/classes", allowed(Permission.CASES_READ)),
    NavItem(N_("Reviews"), "/reviews", allowed(Permission.CASES_READ)),
    NavItem(N_("Metrics"), "/metrics", allowed(Permission.CASES_READ)),
    NavItem(N_("Bounty"), "/bounty", allowed(Permission.BOUNTY_READ)),
    NavItem(N_("Your bounty"), "/bounty/me", allowed(Permission.REPORTS_SUBMIT), researcher=True),
    NavItem(N_("Advisories"), "/advisories", allowed(Permission.TENANT_OWN), tenant=True),
    NavItem(N_("Our resources"), "/fleet/my-tenant", allowed(Permission.TENANT_OWN), tenant=True),
    NavItem(N_("Users"), "/admin/users", allowed(Permission.USERS_MANAGE)),
    NavItem(N_("Audit log"), "/audit", allowed(Permission.AUDIT_READ)),
    NavItem(N_("Demo inbox"), "/inbox", allowed(Permission.USERS_MANAGE), demo=True),
    NavItem(N_("API tokens"), "/account/tokens", SIGNED_IN),
)


def nav_for(principal: Principal | None, *, demo_inbox: bool = False) -> list[NavItem]:
    if principal is None:
        return []
    return [
        item
        for item in NAV
        if item.rule.allows(principal.role)
        and (not item.tenant or principal.tenant_id)
        and (not item.demo or demo_inbox)
        and (not item.researcher or principal.role is Role.RESEARCHER)
    ]
