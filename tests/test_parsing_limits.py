"""Uploaded documents carry no text the database cannot store: a NUL or a lone surrogate in
any string of a JSON or YAML file is refused, naming the file, before anything is written."""

from __future__ import annotations

import pytest

from vulnops.errors import Invalid
from vulnops.parsing_limits import MAX_DEPTH, load_json, load_yaml

LIMIT = 2**20


@pytest.mark.parametrize(
    "document",
    [
        '{"runs": [{"results": [{"message": {"text": "a\\u0000b"}}]}]}',
        '{"runs": [{"tool": {"driver": {"name": "x\\ud800"}}}]}',
        '{"key\\u0000": 1}',
    ],
)
def test_json_with_unstorable_text_is_refused(document: str) -> None:
    with pytest.raises(Invalid, match=r"scan.sarif: text may not contain"):
        load_json(document, max_bytes=LIMIT, source="scan.sarif")


def test_yaml_with_an_escaped_nul_is_refused() -> None:
    with pytest.raises(Invalid, match=r"fleet.yaml: text may not contain a NUL"):
        load_yaml('services:\n  - key: "api\\0"\n', max_bytes=LIMIT, source="fleet.yaml")


def test_depth_is_bounded_and_ordinary_text_passes() -> None:
    assert load_json('{"a": ["é", "😀", 1, null]}', max_bytes=LIMIT, source="x") == {
        "a": ["é", "😀", 1, None]
    }
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(Invalid, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_json(deep, max_bytes=LIMIT, source="x")
    fine = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_json(fine, max_bytes=LIMIT, source="x") is not None
