"""The connection to PostgreSQL: one engine and session factory per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import psycopg
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from vulnops.db import embedded
from vulnops.settings import Settings

EMBEDDED_DBNAME = "vulnops"


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
    """An async engine and its session factory."""

    def __init__(self, conninfo: str, *, pool_size: int = 10) -> None:
        self.conninfo = conninfo
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(conninfo),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

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
