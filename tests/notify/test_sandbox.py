"""The advisory template sandbox: what a template may build and how long it may run (pure)."""

from __future__ import annotations

import time

import pytest

from vulnops.notify.rendering import AdvisoryContext, ExposedResource, RenderError, render
from vulnops.notify.sandbox import RenderLimits, text_size

LIMITS = RenderLimits(max_size=2**20, max_seconds=0.5)
# Six times [a, a, a, a, a, a, a, a, a, a] around a word: tiny in memory, 10^6 words as text.
NESTED = "{% set a = ['word'] %}" + "{% set a = [a, a, a, a, a, a, a, a, a, a] %}" * 6


def _context() -> AdvisoryContext:
    return AdvisoryContext(
        tlp="TLP:AMBER",
        title="T",
        summary="What happened.",
        case={"tracking_id": "VO-CASE-1", "title": "t", "rating": "important"},
        tenant={"key": "acme", "name": "Acme"},
        resources=[
            ExposedResource(f"r{i}", "eu-west", "storage/eu-west/su-01", "2026", None, "1 h")
            for i in range(3)
        ],
        resource_count=3,
        mitigation="Fixed.",
        action_required=False,
        action_steps="",
        contact="security@example.com",
    )


def _refused(body: str, limits: RenderLimits = LIMITS) -> str:
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        render(body, _context(), limits=limits)
    assert time.monotonic() - started < limits.max_seconds + 1
    return str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{% for i in range(100000000) %}{% endfor %}", "range() of more than 10,000 numbers"),
        ("{{ range(10**30)|length }}", "range() of more than 10,000"),
        ("{{ 'a' * 100000000 }}", "the result of * would be 100,000,000 characters"),
        ("{{ 100000000 * [1] }}", "the result of * would be 100,000,000"),
        ("{{ ('a' * 1000000) + ('a' * 1000000) }}", "the result of + would be 2,000,000"),
        ("{{ 2 ** 100000 }}", "a number of 200,000 bits; at most 4096"),
        ("{{ '%999999999d' % 1 }}", "% would be"),
        ("{{ '%*d' % (9, 1) }}", "may not take its width from the values"),
        ("{{ '%999999999d'|format(1) }}", "% would be"),
        (
            "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "a ~ join would be",
        ),
        ("{{ ('a' * 1000000)|replace('a', 'bb') }}", "replace would be 2,000,000"),
        ("{{ resources|map(attribute='region')|join('-' * 600000) }}", "join would be"),
        ("{{ ('a\n' * 500000)|indent(100) }}", "indent would be"),
        (NESTED + "{{ a }}", "a printed value would be"),
        (NESTED + "{{ a|upper }}", "a filtered value would be"),
        (NESTED + "{{ 'x' ~ a }}", "a ~ join would be"),
        (
            "{% set x %}{% for i in range(3000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}",
            "a block's text would be",
        ),
        ("{% for i in range(2000) %}{{ 'y' * 1000 }}{% endfor %}", "renders more than 1,048,576"),
        ("{{ 'x'|center(1000000000) }}", "No filter named 'center'"),
        ("{{ [1]|batch(1000000000, 'x')|list }}", "No filter named 'batch'"),
        ("{{ 'x'.ljust(1000000000) }}", "access to attribute 'ljust' of 'str' object is unsafe"),
        ("{{ '{:>999999999}'.format(1) }}", "access to attribute 'format' of 'str' object"),
        ("{{ lipsum(100000) }}", "'lipsum' is undefined"),
        ("{{ resources.append(1) }}", "access to attribute 'append' of 'list' object"),
        ("{{ tenant.__class__ }}", "unsafe"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls itself too deeply"),
        (
            "{% for r in resources recursive %}{{ loop(resources) }}{% endfor %}",
            "calls itself too deeply",
        ),
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
    ],
)
def test_a_template_past_a_bound_is_refused_quickly_saying_which(body: str, reason: str) -> None:
    assert reason in _refused(body)


@pytest.mark.parametrize(
    "body",
    [
        # Nested loops whose every step is cheap, and a loop over a list made once.
        "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
        "{% set l = range(1000)|list %}{% for a in l %}{% for b in l %}{% for c in l %}"
        "{% endfor %}{% endfor %}{% endfor %}",
    ],
)
def test_a_template_that_runs_too_long_is_stopped_at_the_deadline(body: str) -> None:
    reason = _refused(body)
    assert "takes longer than 0.5 s to render (VULNOPS_TEMPLATE_MAX_RENDER_SECONDS)" in reason


def test_what_an_advisory_needs_still_renders() -> None:
    body = (
        "{{ tenant.name|upper }}: {{ resources|map(attribute='external_id')|join(', ') }}"
        " ({{ resources|length }}, {{ '%.1f'|format(2.25) }}, {{ 'a-b'|replace('-', '+') }})"
        "{% for r in resources %}{% if loop.last %} last={{ r.external_id ~ '!' }}{% endif %}"
        "{% endfor %}{% set ns = namespace(n=0) %}{% for r in resources %}"
        "{% set ns.n = ns.n + 1 %}{% endfor %} n={{ ns.n }} {{ 'x' * 3 }}{{ 2 ** 10 }}"
        "{% filter lower %} DONE{% endfilter %}\n{{ 'one\ntwo'|indent(2) }}"
    )
    assert render(body, _context(), limits=LIMITS) == (
        "ACME: r0, r1, r2 (3, 2.2, a+b) last=r2! n=3 xxx1024 done\none\n  two"
    )


def test_text_size_stops_at_the_limit_whatever_the_value() -> None:
    huge: object = ["word"]
    for _ in range(30):
        huge = [huge, huge]  # 2**30 words as text
    started = time.monotonic()
    assert text_size(huge, 1000) > 1000
    assert time.monotonic() - started < 0.1
    assert text_size("abc", 1000) == 3
    assert text_size({"k": "v"}, 1000) >= len(str({"k": "v"}))
