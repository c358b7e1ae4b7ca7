"""Advisory bodies: Jinja2 templates written by the response team, rendered for each tenant.

The templates are edited in the browser, so they run in a Jinja2 sandbox (no attribute access to
Python internals) with ``StrictUndefined`` (a misspelt name is an error, not an empty string) and
bounds on the size of what they build and the time they take (:mod:`vulnops.notify.sandbox`).
The context is plain data (:class:`AdvisoryContext`), the same for the preview, the portal and
the check made before anything is sent. A template is code a person wrote: whatever it raises
(a bound, a division by zero, a macro calling itself) is a :class:`RenderError` saying so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError, TemplateSyntaxError

from vulnops.notify.sandbox import BoundedSandbox, RenderLimits

if TYPE_CHECKING:
    from vulnops.settings import Settings

TLP = "TLP:AMBER"
MAX_RESOURCES_SHOWN = 200

DEFAULT_BODY = """\
**{{ tlp }}** — for {{ tenant.name }} and the people who need to know to act on it.

## What happened
{{ summary }}

## Your resources
{% if resources %}We found {{ resource_count }} of your resources on the affected systems.
| Resource | Region | Exposed from | Exposed until | Exposure |
| --- | --- | --- | --- | --- |
{% for r in resources %}| {{ r.external_id }} | {{ r.region }} | {{ r.exposed_from }} | \
{{ r.fixed_at or "still exposed" }} | {{ r.exposure }} |
{% endfor %}{% if resource_count > resources|length %}
…and {{ resource_count - resources|length }} more.
{% endif %}{% else %}None of your resources is affected any more.{% endif %}

## Status
{{ mitigation }}

## What you need to do
{% if action_required %}**Action is required.**

{{ action_steps }}{% else %}Nothing: we fixed it for you.{% endif %}

## Contact
Reply through the portal or write to {{ contact }} quoting {{ case.tracking_id }}.
"""


@dataclass(frozen=True)
class ExposedResource:
    external_id: str
    region: str
    unit: str
    exposed_from: str
    fixed_at: str | None
    exposure: str


@dataclass(frozen=True)
class AdvisoryContext:
    """Everything a template may use."""

    tlp: str
    title: str
    summary: str
    case: dict[str, Any]
    tenant: dict[str, Any]
    resources: list[ExposedResource]
    resource_count: int
    mitigation: str
    action_required: bool
    action_steps: str
    contact: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RenderError(ValueError):
    """The template cannot be rendered: the message says where and why."""


def render_limits(settings: Settings) -> RenderLimits:
    """The bounds ``VULNOPS_TEMPLATE_MAX_*`` set."""
    return RenderLimits(
        max_size=settings.template_max_output_bytes,
        max_seconds=settings.template_max_render_seconds,
    )


def exposure(*, since: datetime, until: datetime | None, now: datetime) -> str:
    """Roughly how long, for a reader: "3 d 4 h", "5 h 10 min", "40 min"."""
    minutes = max(int(((until or now) - since).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def render(body: str, context: AdvisoryContext, *, limits: RenderLimits) -> str:
    """The Markdown text of ``body`` for one tenant, or :class:`RenderError`."""
    sandbox = BoundedSandbox(limits)
    try:
        template = sandbox.compile_bounded(body)
        return sandbox.output(template.generate(context.as_dict()))
    except TemplateSyntaxError as error:
        raise RenderError(f"line {error.lineno}: {error.message}") from None
    except TemplateError as error:
        raise RenderError(str(error.message or error)) from None
    except RecursionError:
        raise RenderError("a macro or a recursive loop calls itself too deeply") from None
    except Exception as error:  # whatever the template raised: see the docstring
        raise RenderError(f"{type(error).__name__}: {error}") from None
