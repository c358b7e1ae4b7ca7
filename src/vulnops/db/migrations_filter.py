"""What autogenerate compares: our models, not procrastinate's tables."""

from __future__ import annotations


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """procrastinate's tables are its own (created from its schema), not our models'."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))
