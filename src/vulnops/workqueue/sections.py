"""Which sections a role's work queue shows, in what order, and what each needs (pure).

A section shows only when the role has the permission its lists need, so a role given fewer
permissions by configuration never sees a count it could not open.
"""

from __future__ import annotations

from enum import StrEnum

from vulnops.auth.roles import Permission, Role, has_permission


class SectionKey(StrEnum):
    BREACHES = "breaches"
    MY_CASES = "my_cases"
    MY_APPROVALS = "my_approvals"
    NEW_REPORTS = "new_reports"
    REPORTERS_WAITING = "reporters_waiting"
    MY_FIXES = "my_fixes"
    STAGES = "stages"
    LIVE_ROLLOUTS = "live_rollouts"
    UNSENT_ADVISORIES = "unsent_advisories"
    DEAD_DELIVERIES = "dead_deliveries"
    JOBS = "jobs"
    UNACKNOWLEDGED = "unacknowledged"
    ASKED_OF_ME = "asked_of_me"
    MY_REPORTS = "my_reports"
    MY_ACTION_ITEMS = "my_action_items"
    CUSTOMER_QUESTIONS = "customer_questions"


K = SectionKey
P = Permission
NEEDS: dict[SectionKey, Permission] = {
    K.BREACHES: P.CASES_READ,
    K.MY_CASES: P.CASES_READ,
    K.MY_APPROVALS: P.CASES_READ,
    K.NEW_REPORTS: P.REPORTS_TRIAGE,
    K.REPORTERS_WAITING: P.REPORTS_TRIAGE,
    K.MY_FIXES: P.FIXES_MANAGE,
    K.STAGES: P.ROLLOUTS_READ,
    K.LIVE_ROLLOUTS: P.ROLLOUTS_READ,
    K.UNSENT_ADVISORIES: P.ADVISORIES_READ,
    K.DEAD_DELIVERIES: P.ADVISORIES_READ,
    K.JOBS: P.USERS_MANAGE,
    K.UNACKNOWLEDGED: P.TENANT_OWN,
    K.ASKED_OF_ME: P.REPORTS_SUBMIT,
    K.MY_REPORTS: P.REPORTS_SUBMIT,
    K.MY_ACTION_ITEMS: P.CASES_READ,
    K.CUSTOMER_QUESTIONS: P.ADVISORIES_READ,
}
# The most pressing first.
ROLE_SECTIONS: dict[Role, tuple[SectionKey, ...]] = {
    Role.RESPONDER: (
        K.BREACHES,
        K.MY_CASES,
        K.MY_APPROVALS,
        K.NEW_REPORTS,
        K.REPORTERS_WAITING,
        K.CUSTOMER_QUESTIONS,
        K.DEAD_DELIVERIES,
        K.MY_ACTION_ITEMS,
    ),
    Role.ENGINEER: (K.MY_FIXES, K.STAGES, K.LIVE_ROLLOUTS, K.MY_CASES, K.MY_ACTION_ITEMS),
    Role.RELEASE_MANAGER: (K.STAGES, K.MY_APPROVALS, K.LIVE_ROLLOUTS, K.MY_ACTION_ITEMS),
    Role.COMMUNICATIONS: (
        K.CUSTOMER_QUESTIONS,
        K.MY_APPROVALS,
        K.UNSENT_ADVISORIES,
        K.DEAD_DELIVERIES,
        K.MY_ACTION_ITEMS,
    ),
    Role.ADMIN: (
        K.JOBS,
        K.BREACHES,
        K.STAGES,
        K.DEAD_DELIVERIES,
        K.MY_APPROVALS,
        K.NEW_REPORTS,
        K.REPORTERS_WAITING,
        K.CUSTOMER_QUESTIONS,
        K.LIVE_ROLLOUTS,
        K.UNSENT_ADVISORIES,
        K.MY_CASES,
        K.MY_FIXES,
        K.MY_ACTION_ITEMS,
    ),
    Role.CUSTOMER: (K.UNACKNOWLEDGED,),
    Role.RESEARCHER: (K.ASKED_OF_ME, K.MY_REPORTS),
    Role.PARTNER: (K.ASKED_OF_ME, K.MY_REPORTS),
}
# A section whose count is a problem (not only work): shown in red while it is not zero.
ALARMS = frozenset({K.BREACHES, K.STAGES, K.DEAD_DELIVERIES, K.JOBS})


def sections_for(role: Role) -> tuple[SectionKey, ...]:
    return tuple(key for key in ROLE_SECTIONS[role] if has_permission(role, NEEDS[key]))
