"""Alembic environment: a synchronous psycopg engine on the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from vulnops.db.base import Base
from vulnops.db.database import sqlalchemy_url
from vulnops.db.migrations_filter import include_name
from vulnops.models import import_models

import_models()
target_metadata = Base.metadata
conninfo: str = context.config.attributes["conninfo"]


def run_migrations() -> None:
    engine = create_engine(sqlalchemy_url(conninfo), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
