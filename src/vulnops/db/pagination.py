"""Pages of a query, counted and sliced in SQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
U = TypeVar("U")
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([convert(item) for item in self.items], self.total, self.page, self.per_page)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int

    @classmethod
    def of(cls, page: Page[Any], convert: Callable[[Any], T]) -> PageOut[T]:
        return cls(
            items=[convert(item) for item in page.items],
            total=page.total,
            page=page.page,
            per_page=page.per_page,
            pages=page.pages,
        )


async def paginate_scalars(
    session: AsyncSession, stmt: Select[T], *, page: int, per_page: int
) -> Page[T]:
    """One page of ``stmt``'s rows (already ordered) and the total count, both in SQL."""
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = await session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(list(rows), total or 0, page, per_page)
