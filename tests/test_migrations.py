"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from vulnops.db.base import Base
from vulnops.db.database import sqlalchemy_url
from vulnops.db.migrations_filter import include_name


def test_models_and_migrations_agree(conninfo: str) -> None:
    engine = create_engine(sqlalchemy_url(conninfo))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
