"""The declarative base every table derives from, with stable constraint names for migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}
    # Read server-made values (defaults, updated_at, generated columns) back with RETURNING on
    # every INSERT and UPDATE: an async session cannot lazy-load them afterwards.
    __mapper_args__ = {"eager_defaults": True}


def created_at_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), nullable=False)
