"""Sign-in limits per account and per client address, and self-registrations per client
address, counted in PostgreSQL.

An address that fails too often is refused until its window has passed: it is the attacker's.
An account is never locked, because anyone can fail on anyone's account: after
``per_account`` failures each further attempt waits (1 s, doubling per failure, at most
``max_delay_seconds``) after the latest failure. An attacker with many addresses gets one guess
per delay; the owner signs in at the next free moment, and the success clears the count.

Kept in the database rather than in memory (or a library such as ``limits``, which has no
PostgreSQL storage) because several web processes on several machines share one limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth.models import LoginFailure, RegistrationAttempt
from vulnops.errors import RateLimited


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int
    window_seconds: int
    max_delay_seconds: int = 60

    def account_delay(self, failures: int) -> timedelta:
        """How long after the latest failure the next attempt may come."""
        if failures < self.per_account:
            return timedelta(0)
        exponent = min(failures - self.per_account, 30)
        return timedelta(seconds=min(2**exponent, self.max_delay_seconds))


_COUNTS = text(
    """
    SELECT
        (SELECT count(*) FROM login_failures WHERE email = :email AND at > :since) AS by_email,
        (SELECT max(at) FROM login_failures WHERE email = :email AND at > :since) AS email_latest,
        (SELECT count(*) FROM login_failures WHERE address = :address AND at > :since)
            AS by_address,
        (SELECT min(at) FROM login_failures WHERE address = :address AND at > :since)
            AS address_oldest
    """
)


# Transaction-scoped locks on the account and on the address, always in that order (so two
# attempts never wait for each other in a cycle); released when the attempt commits.
_SERIALIZE = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(:account, 0)), "
    "pg_advisory_xact_lock(hashtextextended(:address, 0))"
)


async def check(
    session: AsyncSession, *, email: str, address: str, limits: LoginLimits, now: datetime
) -> None:
    """Raise 429 when the address's counter is full or the account's delay has not passed;
    the password is then not even checked.

    Attempts on one account, or from one address, take their turn: the count, the password
    check and the failure it records happen under a lock held until the attempt commits, so
    concurrent attempts cannot all read a count below the limit (40 at once got 19 checks
    where the limit was 5)."""
    await session.execute(
        _SERIALIZE, {"account": f"login-account:{email}", "address": f"login-address:{address}"}
    )
    window = timedelta(seconds=limits.window_seconds)
    row = (
        await session.execute(_COUNTS, {"email": email, "address": address, "since": now - window})
    ).one()
    if row.by_address >= limits.per_address:
        raise RateLimited(
            "too many failed sign-ins from this address; try again later",
            retry_after=_seconds_until(row.address_oldest + window, now),
        )
    delay = limits.account_delay(row.by_email)
    if delay and now < (free := row.email_latest + delay):
        wait = _seconds_until(free, now)
        raise RateLimited(
            f"this account had {row.by_email} failed sign-ins recently; "
            f"the next attempt is possible in {wait} s",
            retry_after=wait,
        )


REGISTRATION_WINDOW = timedelta(hours=1)

_REGISTRATIONS = text(
    "SELECT count(*) AS answered, min(at) AS oldest FROM registration_attempts "
    "WHERE address = :address AND at > :since"
)


async def admit_registration(
    session: AsyncSession, *, address: str, per_hour: int, now: datetime
) -> None:
    """Count a self-registration from ``address``, or raise 429 when the address had
    ``per_hour`` answered within the last hour (before any password is hashed or email queued).

    Every answered registration counts, for a new address or a taken one alike: counting only
    new accounts would tell which addresses are taken. Registrations from one address take
    their turn under a lock held until the registration commits, so concurrent ones cannot all
    read a count below the limit; a registration that fails later is not counted."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"registration-address:{address}"},
    )
    row = (
        await session.execute(
            _REGISTRATIONS, {"address": address, "since": now - REGISTRATION_WINDOW}
        )
    ).one()
    if row.answered >= per_hour:
        raise RateLimited(
            f"{row.answered} registrations came from this address within the hour, the most "
            "one address may make; try again later",
            retry_after=_seconds_until(row.oldest + REGISTRATION_WINDOW, now),
        )
    session.add(RegistrationAttempt(address=address, at=now))


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


async def record_failure(session: AsyncSession, *, email: str, address: str) -> None:
    session.add(LoginFailure(email=email, address=address))
    await session.flush()


async def clear_account(session: AsyncSession, *, email: str) -> None:
    """A successful sign-in resets the account's counter (not the address's)."""
    await session.execute(delete(LoginFailure).where(LoginFailure.email == email))


async def prune(session: AsyncSession, *, window_seconds: int) -> int:
    """Forget failed sign-ins older than the window, and registrations older than theirs."""
    failures = await session.execute(
        delete(LoginFailure).where(LoginFailure.at < func.now() - timedelta(seconds=window_seconds))
    )
    registrations = await session.execute(
        delete(RegistrationAttempt).where(RegistrationAttempt.at < func.now() - REGISTRATION_WINDOW)
    )
    return int(failures.rowcount) + int(registrations.rowcount)  # type: ignore[attr-defined]
