"""The request's database session, for FastAPI routes. Routes commit what they change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.db.database import Database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
