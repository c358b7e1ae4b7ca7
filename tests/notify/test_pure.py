"""The pure parts: template rendering, retry delays, rate-limit split, outcome settling."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vulnops.notify.channels import Outcome, Outgoing
from vulnops.notify.deliveries import settle
from vulnops.notify.rendering import (
    DEFAULT_BODY,
    TLP,
    AdvisoryContext,
    ExposedResource,
    RenderError,
    exposure,
    render,
)
from vulnops.notify.retry import RetryPolicy
from vulnops.notify.sandbox import RenderLimits
from vulnops.notify.sending import within_quota

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LIMITS = RenderLimits(max_size=2**20, max_seconds=5)


def _context(resources: int, total: int | None = None, **changes: object) -> AdvisoryContext:
    values: dict[str, object] = {
        "tlp": TLP,
        "title": "T",
        "summary": "What happened.",
        "case": {"tracking_id": "VO-CASE-1", "title": "t", "rating": "important"},
        "tenant": {"key": "acme", "name": "Acme"},
        "resources": [
            ExposedResource(
                f"r{i}",
                "eu-west",
                "storage/eu-west/su-01",
                "2026-11-25 00:00 UTC",
                None if i % 2 else "2026-11-27 09:30 UTC",
                "2 d 9 h",
            )
            for i in range(resources)
        ],
        "resource_count": resources if total is None else total,
        "mitigation": "Fixed.",
        "action_required": False,
        "action_steps": "",
        "contact": "security@example.com",
    }
    values.update(changes)
    return AdvisoryContext(**values)  # type: ignore[arg-type]


def test_the_default_template_lists_the_tenants_resources_and_their_exposure() -> None:
    text = render(DEFAULT_BODY, _context(3, total=250), limits=LIMITS)
    assert text.startswith(f"**{TLP}** — for Acme")
    assert "| r0 | eu-west | 2026-11-25 00:00 UTC | 2026-11-27 09:30 UTC | 2 d 9 h |" in text
    assert "| r1 | eu-west | 2026-11-25 00:00 UTC | still exposed | 2 d 9 h |" in text
    assert "…and 247 more." in text
    assert "Nothing: we fixed it for you." in text
    acting = render(
        DEFAULT_BODY,
        _context(0, action_required=True, action_steps="Rotate keys."),
        limits=LIMITS,
    )
    assert "**Action is required.**" in acting and "Rotate keys." in acting
    assert "None of your resources is affected any more." in acting


def test_template_errors_say_where_and_what() -> None:
    with pytest.raises(RenderError, match="line 3"):
        render("a\nb\n{% for %}", _context(1), limits=LIMITS)
    with pytest.raises(RenderError, match="'dict object' has no attribute 'nmae'"):
        render("{{ tenant.nmae }}", _context(1), limits=LIMITS)
    with pytest.raises(RenderError):
        render("{{ tenant.__class__.__subclasses__() }}", _context(1), limits=LIMITS)


def test_exposure_reads_like_a_person_wrote_it() -> None:
    since = NOW - timedelta(days=2, hours=3, minutes=10)
    assert exposure(since=since, until=None, now=NOW) == "2 d 3 h"
    assert exposure(since=since, until=since + timedelta(minutes=95), now=NOW) == "1 h 35 min"
    assert exposure(since=since, until=since + timedelta(minutes=4), now=NOW) == "4 min"


@given(attempt=st.integers(min_value=1, max_value=40), seed=st.integers(0, 10_000))
def test_retry_delays_grow_then_stay_under_the_cap_with_jitter(attempt: int, seed: int) -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=30, cap_seconds=3600)
    delay = policy.delay(attempt, random.Random(seed))
    bound = min(3600, 30 * 2 ** (attempt - 1))
    assert bound / 2 <= delay <= bound


def _item(delivery_id: int, *addresses: str, attempts: int = 0) -> Outgoing:
    return Outgoing(
        delivery_id, attempts, 0, 1, 1, "t", False, "VO-1", "k", "K", "whsec_x", tuple(addresses)
    )


def test_the_quota_split_keeps_every_domain_under_what_it_was_granted() -> None:
    batch = [
        _item(1, "a@x.test"),
        _item(2, "b@x.test", "c@y.test"),  # needs both domains
        _item(3, "d@y.test"),
        _item(4, "e@X.TEST"),
    ]
    allowed, postponed = within_quota(batch, {"x.test": 2, "y.test": 1})
    assert [i.delivery_id for i in allowed] == [1, 2]
    assert [i.delivery_id for i in postponed] == [3, 4]


def test_settling_outcomes() -> None:
    policy = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=100)
    batch = [_item(1), _item(2), _item(3, attempts=2), _item(4), _item(5, attempts=1)]
    outcomes = [
        Outcome(1, True),
        Outcome(2, False, "HTTP 500"),
        Outcome(3, False, "HTTP 500"),
        Outcome(4, False, "no URL", "undeliverable"),
        Outcome(5, False, "550 no such user", "dead"),
    ]
    settled = {
        row[0]: row[1:] for row in settle(batch, outcomes, policy=policy, rng=random.Random(1))
    }
    assert settled[1] == ("delivered", "", 0.0)
    assert settled[2][0:2] == ("retrying", "HTTP 500") and 5 <= settled[2][2] <= 10
    assert settled[3] == ("dead", "HTTP 500 (gave up after 3 attempts)", 0.0)
    assert settled[4] == ("undeliverable", "no URL", 0.0)
    assert settled[5] == ("dead", "550 no such user", 0.0)
