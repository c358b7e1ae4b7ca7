"""Alembic migrations, applied from code: ``vulnops db upgrade``, ``serve`` on start, the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

SCRIPT_LOCATION = "vulnops.db:migrations"


def alembic_config(conninfo: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["conninfo"] = conninfo
    return config


def upgrade(conninfo: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(conninfo), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


async def current_revision(session: AsyncSession) -> str | None:
    """The revision the database is at, or None before the first migration."""
    try:
        async with session.begin_nested():
            result = await session.execute(text("SELECT version_num FROM alembic_version"))
    except ProgrammingError:
        return None
    return result.scalar_one_or_none()
