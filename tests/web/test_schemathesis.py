"""Schemathesis over every operation of the OpenAPI document, as an administrator, a researcher
and a customer, on the demo data: no server error, and every answer (status, media type, body)
as the document declares it. A fixed seed and a bounded number of examples keep the run the
same each time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpers import MakeUser, api_token, serving_app
from vulnops import demo
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings
from vulnops.web.app import create_app

EXAMPLES = 10  # per operation and role
SEED = 20261202
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _examples(
    operation: schemathesis.APIOperation,
    *,
    url: str,
    client: requests.Session,
    token: str,
    answered: Counter[int],
) -> Callable[[], None]:
    """The operation's examples as one Hypothesis test, counting the statuses answered."""
    auth = {"Authorization": f"Bearer {token}"}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=url, session=client, headers=auth, checks=CHECKS)
        answered[response.status_code] += 1

    return run


def _run(
    schema: schemathesis.BaseSchema, url: str, tokens: list[str]
) -> tuple[list[str], dict[str, Counter[int]]]:
    """Run every operation, each with its own caller (an operation may revoke its token or
    disable its user): the failures, one line each (an operation stops at its first), and the
    statuses each operation answered."""
    failures: list[str] = []
    statuses: dict[str, Counter[int]] = {}
    with requests.Session() as client:
        for result, token in zip(schema.get_all_operations(), tokens, strict=True):
            operation = result.ok()
            answered = statuses[operation.label] = Counter()
            try:
                _examples(operation, url=url, client=client, token=token, answered=answered)()
            except (Exception, BaseExceptionGroup) as error:  # every operation is reported
                first = str(error).strip().splitlines()[:8]
                failures.append(f"{operation.label}: " + " | ".join(first))
    return failures, statuses


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.ADMIN, Role.RESEARCHER, Role.CUSTOMER])
async def test_every_operation_keeps_to_the_document(
    db: Database, mail_settings: Settings, make_user: MakeUser, role: Role
) -> None:
    settings = mail_settings  # a real SMTP server: self-registration sends its confirmation
    await demo.seed(db)  # objects to find: the fuzzed ids are mostly small
    schema = schemathesis.openapi.from_dict(create_app(settings).openapi())
    operations = sum(1 for _ in schema.get_all_operations())
    assert operations >= 100  # the whole API, not a part of it
    tokens = [await api_token(db, await make_user(role)) for _ in range(operations)]
    with serving_app(settings) as url:
        failures, statuses = _run(schema, url, tokens)
    assert failures == [], f"{len(failures)} of {operations} operations:\n" + "\n".join(failures)
    # The callers stayed signed in: no operation was only ever refused for its token.
    assert [label for label, seen in statuses.items() if set(seen) == {401}] == []
    assert sum(seen.total() for seen in statuses.values()) >= operations * EXAMPLES // 2
