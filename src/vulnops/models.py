"""Every table of every domain, imported in one place for Alembic and the tests."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "vulnops.audit.models",
    "vulnops.auth.models",
    "vulnops.tenants.models",
    "vulnops.fleet.models",
    "vulnops.mail.models",
    "vulnops.cases.models",
    "vulnops.approvals.models",
    "vulnops.intake.models",
    "vulnops.remediation.models",
    "vulnops.rollout.models",
    "vulnops.notify.models",
    "vulnops.disclosure.models",
    "vulnops.sim.models",
    "vulnops.inbox.models",
    "vulnops.oncall.models",
    "vulnops.bounty.models",
    "vulnops.variants.models",
    "vulnops.review.models",
    "vulnops.demo",
)


def import_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
