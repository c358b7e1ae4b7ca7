"""The metrics filter read from a request's query (the API, the dashboard and its CSVs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import ValidationError

from vulnops.cases.severity import Rating
from vulnops.db.bounded import Text
from vulnops.errors import Invalid
from vulnops.intake.states import Source
from vulnops.review.schemas_metrics import MetricsFilter


def metrics_filter(
    start: Annotated[Text | None, Query(max_length=7, description="First month, YYYY-MM.")] = None,
    end: Annotated[Text | None, Query(max_length=7, description="Last month, YYYY-MM.")] = None,
    rating: Annotated[Rating | None, Query()] = None,
    source: Annotated[Source | None, Query()] = None,
    service: Annotated[Text | None, Query(max_length=100)] = None,
) -> MetricsFilter:
    try:
        return MetricsFilter(start=start, end=end, rating=rating, source=source, service=service)
    except ValidationError as error:
        problems = [
            f"{'.'.join(map(str, e['loc'])) or 'period'}: {e['msg']}" for e in error.errors()
        ]
        raise Invalid("; ".join(problems)) from error
