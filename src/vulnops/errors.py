"""Errors the domain services raise; the web layer turns each into an RFC 9457 problem (or page).

Services stay free of HTTP: they say *what* went wrong, and the status lives here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Invalid(DomainError):
    """The input is well-formed but says something impossible."""

    status = 422
    title = "Invalid input"

    def __init__(self, detail: str, *, errors: Sequence[dict[str, Any]] = (), **extra: Any):
        super().__init__(detail, **extra)
        if errors:
            self.extra["errors"] = list(errors)


class NotFound(DomainError):
    """Missing, or not visible to the caller: the two must look the same."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Unauthenticated(DomainError):
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class TooLarge(DomainError):
    status = 413
    title = "Content too large"


class InsufficientStorage(DomainError):
    """Storing what was sent would leave the disk with less free space than its reserve."""

    status = 507
    title = "Insufficient storage"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class Upstream(DomainError):
    """A service we depend on (CVE Services) refused or failed; its answer is in the detail."""

    status = 502
    title = "Bad gateway"
