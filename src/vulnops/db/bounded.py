"""The input boundary: what a request may carry so that the database can store it.

PostgreSQL refuses a NUL character in text and a lone UTF-16 surrogate cannot be encoded as
UTF-8; an integer above its column's range and a page number whose offset does not fit in a
bigint fail inside the database. Each of those would surface as a server error after the work
had begun, so they are refused here, before a route runs, as a 422 that names the field.

The types below are used by every path, query and form parameter (``web.routes.check_bounds``
refuses to start an app with a parameter that does not use them), and ``Input`` is the base of
every request body: it walks the raw body once and bounds every string, integer, list and
nesting level in it, whatever the field's declared type.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictBool, model_validator

MAX_BIGINT = 2**63 - 1
MIN_BIGINT = -(2**63)
MAX_INTEGER = 2**31 - 1
# A page number whose offset (page times the largest page) still fits in an integer column.
MAX_PAGE = 10_000_000
MAX_DEPTH = 32  # nesting of lists and objects in a request body
MAX_ITEMS = 10_000  # entries of one list or object in a request body

# NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` when PostgreSQL can store it as text; otherwise a ``ValueError`` saying why."""
    found = UNSTORABLE.search(value)
    if found is None:
        return value
    if found[0] == "\x00":
        raise ValueError(f"text may not contain a NUL character (at position {found.start()})")
    raise ValueError(f"text may not contain an unpaired surrogate (at position {found.start()})")


STORABLE = AfterValidator(storable)


def file_name(name: str | None, default: str) -> str:
    """An uploaded file's name as we keep it: its last path part, printable (which also drops
    what the database cannot store), at most 255 characters; ``default`` when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    return base.strip().strip(".")[-255:] or default


Text = Annotated[str, STORABLE]
Id = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
Count = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
Flag = StrictBool  # a JSON boolean is true or false, never 0 or "yes"


def _at(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _refusal(value: Any, depth: int) -> str | None:
    """Why ``value`` itself (not what it contains) cannot be stored, or None."""
    if isinstance(value, str):
        try:
            storable(value)
        except ValueError as error:
            return str(error)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not MIN_BIGINT <= value <= MAX_BIGINT:
            return "the number is outside the range a database column holds"
    elif isinstance(value, Mapping | list | tuple):
        if depth >= MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if len(value) > MAX_ITEMS:
            return f"more than {MAX_ITEMS} entries"
    return None


def _bounded(value: Any, where: str, depth: int) -> None:
    """Refuse ``value`` (found at ``where`` in a body) when the database could not store it."""
    refusal = _refusal(value, depth)
    if refusal:
        raise ValueError(f"{where or 'body'}: {refusal}")
    if isinstance(value, Mapping | list | tuple):
        if isinstance(value, Mapping):
            for key, item in value.items():
                _bounded(key, where, depth + 1)
                _bounded(item, _at(where, key), depth + 1)
        else:
            for index, item in enumerate(value):
                _bounded(item, _at(where, index), depth + 1)


class Input(BaseModel):
    """The base of every request body: nothing in it the database cannot store."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _bounded(data, "", 0)
        return data
