"""Durations written the way people write them in policy files (``90s``, ``30m``, ``4h``,
``7d``), and said the way people say them (``3 h 20 min``, ``in 2 d``) (pure)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_DURATION = re.compile(r"^\s*(-?\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: object, *, where: str = "", allow_zero: bool = False) -> timedelta:
    """``text`` as a timedelta; a ValueError naming ``where`` (when given) if it is not a
    duration, is negative, or is zero when zero is not allowed."""
    prefix = f"{where}: " if where else ""
    if isinstance(text, timedelta):
        span = text
    else:
        match = _DURATION.match(str(text))
        if match is None:
            raise ValueError(f"{prefix}{text!r} is not a duration like 90s, 30m, 4h or 7d")
        span = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if span < timedelta(0) or (span == timedelta(0) and not allow_zero):
        raise ValueError(
            f"{prefix}a duration must be {'zero or ' if allow_zero else ''}positive, not {text!r}"
        )
    return span


def format_duration(span: timedelta) -> str:
    """The shortest exact way to write ``span`` in those units."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def humanize(span: timedelta) -> str:
    """``span`` the way a person says it, to two units at most: ``40 s``, ``42 min``,
    ``3 h 20 min``, ``2 d 4 h``."""
    seconds = abs(int(span.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"


def relative(at: datetime, now: datetime) -> str:
    """``in 3 h`` or ``3 h ago``."""
    span = at - now
    return f"in {humanize(span)}" if span.total_seconds() >= 0 else f"{humanize(span)} ago"
