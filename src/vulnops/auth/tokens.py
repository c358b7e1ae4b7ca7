"""API token secrets: ``vo_`` and 43 random URL-safe characters, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "vo_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[: len(PREFIX) + 6]
