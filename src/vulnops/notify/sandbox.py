"""A Jinja2 sandbox with bounds on what a template may build and how long it may run.

Jinja2's sandbox keeps a template away from Python internals, not from the machine's memory and
time: ``{{ 'a' * 10**8 }}`` builds 100 MB, ``{% for i in range(10**8) %}`` is refused only by an
``OverflowError``, and three nested loops over a list of 10,000 run for ever. An advisory
template is written by staff in the browser and rendered by the web server and the workers, so
this sandbox bounds it, in layers:

- **Sizes** (``max_size``, from ``VULNOPS_TEMPLATE_MAX_OUTPUT_BYTES``): the rendered text is
  counted as it streams out; ``*``, ``+``, ``%``, ``~`` and the filters that grow their input
  (``replace``, ``join``, ``indent``, ``format``) check the size of what they would build
  *before* building it; a value is measured as text (without recursion, stopping at the bound)
  before it is printed, joined or filtered — ``[a, a]`` nested ten deep is small in memory and
  huge as text. Integers from ``*`` and ``**`` have at most :data:`MAX_INT_BITS` bits.
- **Loops**: ``range`` gives at most :data:`MAX_RANGE` numbers, and every ``{% for %}`` steps
  through :meth:`BoundedSandbox.bounded_iter` (the parsed template is rewritten so), which
  checks the clock at each item.
- **Time** (``max_seconds``, from ``VULNOPS_TEMPLATE_MAX_RENDER_SECONDS``): the deadline is
  checked at every loop step, call, operator, filter and piece of output.
- **What is left out**: the filters whose result grows with an argument rather than with their
  input (``batch``, ``center``, ``slice``, ``sum``, ``tojson``, ``urlize``, ``wordwrap``,
  ``pprint``), the ``lipsum`` global, and the string methods that pad, repeat or format
  (``center``, ``ljust``, ``format`` …; the filters do what an advisory needs). Lists and
  dictionaries cannot be changed in place (Jinja2's immutable sandbox).

A bound exceeded raises :class:`TemplateLimit`, a template error that names the bound.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateRuntimeError, Undefined, nodes
from jinja2.filters import do_indent, make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer

MAX_RANGE = 10_000
MAX_INT_BITS = 4096
# Filters whose result grows with an argument, not with the size of their input.
LEFT_OUT_FILTERS = ("batch", "center", "pprint", "slice", "sum", "tojson", "urlize", "wordwrap")
# String methods that pad, repeat or format (str.format is also what the sandbox would wrap).
LEFT_OUT_STR_METHODS = frozenset(
    {
        "center",
        "expandtabs",
        "format",
        "format_map",
        "join",
        "ljust",
        "replace",
        "rjust",
        "translate",
        "zfill",
    }
)
# A printf conversion's width and precision ("%-20.5s", "%(name)08d").
PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
SEQUENCES = (str, list, tuple)


@dataclass(frozen=True)
class RenderLimits:
    max_size: int  # bytes of the rendered text; characters or items of any value built
    max_seconds: float


class TemplateLimit(TemplateRuntimeError):
    """The template went past one of the sandbox's bounds."""


def text_size(value: object, limit: int) -> int:
    """About how long ``str(value)`` is, walked with a stack and stopping once past ``limit``
    (so it costs at most about ``limit`` steps, whatever the value)."""
    size = 0
    stack = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, Undefined | range):
            size += 30  # a missing name fails when printed; a range prints as range(a, b)
        elif isinstance(item, bool | float) or item is None:
            size += 24
        elif isinstance(item, int):
            size += item.bit_length() // 3 + 2  # at least its number of digits
        elif isinstance(item, Namespace):
            # Its text is that of its attributes: the same dictionary its repr shows.
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        elif isinstance(item, Mapping):  # each item's quotes, ": " and ", "
            size += 2 + 8 * len(item)
            if size <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, Collection):  # each item's quotes and ", "
            size += 2 + 4 * len(item)
            if size <= limit:
                stack.extend(item)
        else:
            size += 50  # a macro, a cycler, a loop: their text is their short repr
    return size


class _Bounded(NodeTransformer):
    """Route every loop's iterable and every ``~`` through the sandbox's bounded versions."""

    @staticmethod
    def _call(name: str, args: list[nodes.Node], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None, lineno=lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802 (the visitor's naming)
        self.generic_visit(node)
        node.iter = self._call("bounded_iter", [node.iter], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return self._call("bounded_join", list(node.nodes), node.lineno)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """One per rendering: its deadline starts when it is made."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: RenderLimits) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, finalize=self._printed)
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds
        self.globals["range"] = self._range
        del self.globals["lipsum"]
        for name in LEFT_OUT_FILTERS:
            del self.filters[name]
        self.filters.update(
            replace=self._replace, join=self._join, indent=self._indent, format=self._format
        )
        self.filters = {name: self._bounded_filter(f) for name, f in self.filters.items()}

    # -- what every bound says -----------------------------------------------------------

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(
                f"the template takes longer than {self.limits.max_seconds:g} s to render "
                "(VULNOPS_TEMPLATE_MAX_RENDER_SECONDS)"
            )

    def check_size(self, size: int, what: str) -> None:
        if size > self.limits.max_size:
            raise TemplateLimit(
                f"{what} would be {size:,} characters or items long; a template may build at "
                f"most {self.limits.max_size:,} (VULNOPS_TEMPLATE_MAX_OUTPUT_BYTES)"
            )

    def check_text(self, value: object, what: str) -> None:
        self.check_size(text_size(value, self.limits.max_size), what)

    def _bits(self, bits: int, what: str) -> None:
        if bits > MAX_INT_BITS:
            raise TemplateLimit(
                f"{what} would be a number of {bits:,} bits; at most {MAX_INT_BITS}"
            )

    # -- the template's parse tree and output --------------------------------------------

    def compile_bounded(self, body: str) -> Template:
        """The template, its loops and joins routed through the bounded versions."""
        tree = self.parse(body)
        guarded = _Bounded().visit(tree)
        guarded.set_environment(self)
        return self.from_string(guarded)

    def output(self, pieces: Iterator[str]) -> str:
        """The rendered text, counted (in UTF-8 bytes) as it streams out."""
        size = 0
        text: list[str] = []
        for piece in pieces:
            size += len(piece.encode())
            if size > self.limits.max_size:
                raise TemplateLimit(
                    f"the template renders more than {self.limits.max_size:,} bytes "
                    "(VULNOPS_TEMPLATE_MAX_OUTPUT_BYTES)"
                )
            self.tick()
            text.append(piece)
        return "".join(text)

    def _printed(self, value: object) -> object:
        self.check_text(value, "a printed value")
        return value

    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.tick()
            yield item

    def bounded_join(self, *values: object) -> str:
        """``a ~ b``: each operand as text, the whole within the bound."""
        size = 0
        for value in values:
            size += text_size(value, self.limits.max_size)
            self.check_size(size, "a ~ join")
        return "".join(str(value) for value in values)

    def concat(self, pieces: Iterable[str]) -> str:
        """The text of a block that is captured rather than streamed out (``{% set %}``,
        ``{% filter %}``, a macro's body), within the bound."""
        size = 0
        text: list[str] = []
        for piece in pieces:
            size += len(piece)
            self.check_size(size, "a block's text")
            text.append(piece)
        return "".join(text)

    # -- the sandbox's hooks -------------------------------------------------------------

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in LEFT_OUT_STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` is left out (its widths are unbounded), not wrapped."""
        return None

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        self.tick()
        if operator == "%" and isinstance(left, str):
            return self._percent(left, right)
        if operator == "*" and isinstance(left, int) and isinstance(right, SEQUENCES):
            left, right = right, left
        if operator == "*" and isinstance(left, SEQUENCES) and isinstance(right, int):
            self.check_size(len(left) * right, "the result of *")
        elif operator == "*" and isinstance(left, int) and isinstance(right, int):
            self._bits(left.bit_length() + right.bit_length(), "the result of *")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            self._bits(left.bit_length() * right, "the result of **")
        elif operator == "+" and isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
            self.check_size(len(left) + len(right), "the result of +")
        return super().call_binop(context, operator, left, right)

    # -- bounded globals and filters -----------------------------------------------------

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        try:
            count = len(numbers)
        except OverflowError:  # more than the machine's word holds
            count = MAX_RANGE + 1
        if count > MAX_RANGE:
            raise TemplateLimit(
                f"range() of more than {MAX_RANGE:,} numbers; a template loops at most "
                f"{MAX_RANGE:,} times over a range"
            )
        return numbers

    def _bounded_filter(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """A built-in filter that first checks the clock and how large its value and arguments
        are as text (every filter but ``length`` turns its value into text somewhere)."""

        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.tick()
            for value in (*args, *kwargs.values()):
                if not isinstance(value, Context | EvalContext | Environment):
                    self.check_text(value, "a filtered value")
            return function(*args, **kwargs)

        # Keep what tells Jinja2 to pass the context or environment first.
        bounded.__dict__.update(getattr(function, "__dict__", {}))
        return bounded

    def _percent(self, template: str, values: object) -> str:
        """``template % values`` once its widths and values fit."""
        widths = 0
        for width, precision in PRINTF_SPEC.findall(template):
            if "*" in (width, precision):
                raise TemplateLimit("a % format may not take its width from the values (*)")
            widths += int(width or 0) + int(precision or 0)
        self.check_size(len(template) + widths + text_size(values, self.limits.max_size), "%")
        return template % values

    def _replace(self, value: object, old: object, new: object, count: int | None = None) -> str:
        text, old, new = str(value), str(old), str(new)
        found = text.count(old) if old else len(text) + 1
        if count is not None and count >= 0:
            found = min(found, count)
        self.check_size(len(text) + found * (len(new) - len(old)), "replace")
        return text.replace(old, new, -1 if count is None else count)

    def _join(self, value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
        items = list(value)
        if attribute is not None:
            items = [make_attrgetter(self, attribute)(item) for item in items]
        size = len(str(d)) * max(len(items) - 1, 0)
        for item in items:
            size += text_size(item, self.limits.max_size)
            self.check_size(size, "join")
        return str(d).join(str(item) for item in items)

    def _indent(
        self, value: object, width: int | str = 4, first: bool = False, blank: bool = False
    ) -> str:
        text = str(value)
        pad = len(width) if isinstance(width, str) else int(width)
        self.check_size(len(text) + (text.count("\n") + 1) * pad, "indent")
        return do_indent(text, width, first, blank)

    def _format(self, value: object, *args: Any, **kwargs: Any) -> str:
        if args and kwargs:
            raise TemplateRuntimeError("format takes positional or keyword arguments, not both")
        return self._percent(str(value), kwargs or args)
