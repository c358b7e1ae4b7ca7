"""The connection to PostgreSQL: one engine and session factory per process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from vulnops.db import embedded
from vulnops.settings import Settings

EMBEDDED_DBNAME = "vulnops"
# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_BEFORE_PING_SECONDS = 10.0
# libpq start-up options of every connection: JIT off. PostgreSQL compiles a query whose
# estimated cost passes jit_above_cost, and such estimates are easily passed by a count over
# 20,000 cases with the need-to-know filter: its JIT took 16 of its 53 ms, for a query that
# runs in 6 ms compiled or not. It pays off for long analytical queries, which we do not run.
CONNECTION_OPTIONS = "-c jit=off"
_RETURNED_AT = "vulnops_returned_at"


def resolve_conninfo(settings: Settings) -> str:
    """The libpq URL of the database: the configured one, or the embedded server's."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        for prefix in ("postgresql+psycopg://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql://" + url[len(prefix) :]
        if not url.startswith("postgresql://"):
            raise ValueError("VULNOPS_DATABASE_URL must be a postgresql:// URL")
        return url
    server = embedded.start_server(embedded_pgdata(settings))
    return embedded.ensure_database(server, EMBEDDED_DBNAME)


def embedded_pgdata(settings: Settings) -> Path:
    return settings.data_dir / "postgres"


def sqlalchemy_url(conninfo: str) -> str:
    return "postgresql+psycopg://" + conninfo.removeprefix("postgresql://")


class Database:
    """An async engine and its session factory.

    A connection is pinged before use only when it has been idle ``idle_before_ping`` seconds
    or more (SQLAlchemy's "pessimistic" recipe with a checkout event): one that the database
    closed meanwhile (it restarted, an idle timeout) is then replaced before a request uses it.
    Pinging on every checkout, as ``pool_pre_ping`` does, cost a submission three round trips
    more — 1.3 of its 8 ms of CPU — though under load every connection had just been used.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        pool_size: int = 10,
        idle_before_ping: float = IDLE_BEFORE_PING_SECONDS,
    ) -> None:
        self.conninfo = conninfo
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(conninfo),
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"options": CONNECTION_OPTIONS},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._ping_after_idle(idle_before_ping)

    def _ping_after_idle(self, seconds: float) -> None:
        dialect = self.engine.dialect

        def returned(_dbapi_connection: Any, record: Any) -> None:
            record.info[_RETURNED_AT] = time.monotonic()

        def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            returned_at = record.info.get(_RETURNED_AT)
            if returned_at is None or time.monotonic() - returned_at < seconds:
                return  # new, or just used
            try:
                dialect.do_ping(dbapi_connection)
            except dialect.loaded_dbapi.Error as error:
                raise DisconnectionError("the database closed an idle connection") from error

        event.listen(self.engine.sync_engine, "checkin", returned)
        event.listen(self.engine.sync_engine, "checkout", checked_out)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def raw_connection(session: AsyncSession) -> psycopg.AsyncConnection[object]:
    """The psycopg connection under ``session``'s transaction.

    Jobs are enqueued on it so that they commit or roll back together with the change that
    caused them.
    """
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return cast("psycopg.AsyncConnection[object]", raw.driver_connection)
