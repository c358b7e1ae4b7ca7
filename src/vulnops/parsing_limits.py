"""Bounds on the documents vulnops reads from files people upload (SARIF logs, CycloneDX SBOMs,
JUnit reports, the fleet's topology YAML and CSV files), and the helpers every parser uses to
keep them, so that each refuses the same way and names the bound it hit.

A parser reads a whole document into memory and walks it, so its size, how deeply it nests and
how many items it holds are bounded before anything is built from it: a byte size over the
bound is :class:`~vulnops.errors.TooLarge` (413), anything else over a bound is
:class:`~vulnops.errors.Invalid` (422). JSON nesting is checked without recursion, and
``json.loads`` itself stops at the interpreter's recursion limit (a ``RecursionError``), which is
reported as the same bound. YAML is read with :class:`BoundedYamlLoader`: PyYAML's safe loader,
with aliases refused (a few lines of ``&a [*b, *b, …]`` expand to billions of items — "billion
laughs" — when anything walks the result) and nesting bounded (its composer recurses once per
level).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import yaml

from vulnops.db.bounded import storable
from vulnops.errors import Invalid, TooLarge

MIB = 2**20
# Nesting of JSON arrays and objects, YAML collections and XML elements. The real documents we
# read nest at most about 15 levels (a Semgrep SARIF log with data-flow traces).
MAX_DEPTH = 64
# SBOMs and JUnit reports, read whole into memory (a large container image's SBOM is a few MB).
MAX_DOCUMENT_BYTES = 16 * MIB
# YAML is parsed in pure Python (about 0.3 MB/s): 8 MB is some 60,000 deployment units.
MAX_YAML_BYTES = 8 * MIB
# Items of one uploaded document.
MAX_SARIF_RESULTS = 50_000
MAX_SBOM_COMPONENTS = 50_000
MAX_JUNIT_CASES = 200_000
MAX_TOPOLOGY_ITEMS = 100_000  # services, regions and units, each
MAX_CSV_LINES = 5_000_000  # the large generated fleet's resources.csv has 1,000,000
MAX_LIST_ITEMS = 50  # tags of a unit or resource, security emails of a tenant
# One free-text field taken from a document (a scanner's message, a rule's help text).
MAX_TEXT_CHARS = 40_000


class Readable(Protocol):
    """An uploaded file (Starlette's ``UploadFile``) or anything else read in pieces."""

    async def read(self, size: int = -1) -> bytes: ...


def _megabytes(size: int) -> str:
    return f"{size // MIB} MB" if size >= MIB else f"{size} bytes"


def check_size(data: str | bytes, *, max_bytes: int, source: str) -> None:
    size = len(data) if isinstance(data, bytes) else len(data.encode())
    if size > max_bytes:
        raise TooLarge(f"{source} is larger than {_megabytes(max_bytes)}")


async def read_bounded(upload: Readable, *, max_bytes: int, source: str) -> bytes:
    """The upload's bytes, reading no more than one byte past the bound."""
    data = await upload.read(max_bytes + 1)
    check_size(data, max_bytes=max_bytes, source=source)
    return data


def check_count(count: int, *, limit: int, what: str, source: str) -> None:
    if count > limit:
        raise Invalid(f"{source}: more than {limit:,} {what} (there are {count:,})")


def _too_deep(source: str) -> Invalid:
    return Invalid(f"{source}: nested deeper than {MAX_DEPTH} levels")


def check_document(document: object, *, source: str) -> None:
    """Refuse a parsed JSON value nested deeper than :data:`MAX_DEPTH`, or holding text the
    database cannot store (a NUL, a lone surrogate: ``db.bounded.storable``). Walked with a
    stack, so a deep value cannot exhaust the interpreter's."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                storable(value)
            except ValueError as error:
                raise Invalid(f"{source}: {error}") from None
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(source)
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)


def load_json(data: str | bytes, *, max_bytes: int, source: str) -> Any:
    """A JSON document within the size and depth bounds, or the reason it is not one."""
    check_size(data, max_bytes=max_bytes, source=source)
    try:
        document = json.loads(data)
    except RecursionError:
        raise _too_deep(source) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Invalid(f"{source}: not valid JSON: {error}") from None
    check_document(document, source=source)
    return document


class _Refused(yaml.YAMLError):
    """What :class:`BoundedYamlLoader` does not read, with the line it is on."""

    def __init__(self, problem: str, event: yaml.Event) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = event.start_mark.line + 1 if event.start_mark is not None else None


class BoundedYamlLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader without aliases and with bounded nesting."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                f"the alias *{event.anchor} is refused (aliases can expand a small document "
                "into a huge one); write the values out",
                event,
            )
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str, *, max_bytes: int, source: str) -> tuple[Any, yaml.Node | None]:
    """A YAML (or JSON) document within the bounds, and its node tree (which knows the line of
    each item), or the reason it is not one."""
    check_size(text, max_bytes=max_bytes, source=source)
    loader = BoundedYamlLoader(text)
    try:
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    except _Refused as error:
        place = f"line {error.line}: " if error.line is not None else ""
        raise Invalid(f"{source}: {place}{error.problem}") from None
    except yaml.YAMLError as error:
        raise Invalid(f"{source}: not valid YAML or JSON: {error}") from None
    finally:
        loader.dispose()
    check_document(document, source=source)  # a double-quoted "\\0" is a NUL
    return document, node
