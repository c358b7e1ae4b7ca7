"""Argon2id password hashing (argon2-cffi), run off the event loop because it is slow on purpose."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vulnops.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 1024
_hasher = PasswordHasher()


def check_strength(password: str, *, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"the password must be at most {MAX_LENGTH} characters long")
    if password.strip().lower() == email.strip().lower():
        raise Invalid("the password must not be the email address")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the account does not exist, so that both cases take as long."""
    return _hasher.hash("no such account")
