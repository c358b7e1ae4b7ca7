"""Attachment files: streamed to the data directory under a random name, size-limited,
hashed on the way; never under the web root, and served back only as downloads."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
from fastapi import UploadFile

from vulnops.db.bounded import file_name
from vulnops.errors import Invalid, TooLarge

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    storage_name: str
    filename: str
    content_type: str
    size: int
    sha256: str


class Downloadable(Protocol):
    """A stored file's row (a report's attachment, a conversation's)."""

    @property
    def storage_name(self) -> str: ...

    @property
    def filename(self) -> str: ...


def path_of(directory: Path, storage_name: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", storage_name):
        raise Invalid("bad storage name")
    return directory / storage_name


async def store(upload: UploadFile, *, directory: Path, limit: int) -> StoredFile:
    """Copy an upload into ``directory``; 413 (and nothing kept) past ``limit`` bytes."""
    await anyio.Path(directory).mkdir(parents=True, exist_ok=True)
    storage_name, name = secrets.token_urlsafe(24), file_name(upload.filename, "attachment")
    target = anyio.Path(path_of(directory, storage_name))
    digest, size = hashlib.sha256(), 0
    try:
        async with await anyio.open_file(target, "xb") as handle:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"{name} is larger than the limit of {limit // (1024 * 1024)} MB",
                        limit_bytes=limit,
                    )
                digest.update(chunk)
                await handle.write(chunk)
    except BaseException:
        await target.unlink(missing_ok=True)
        raise
    if size == 0:
        await target.unlink(missing_ok=True)
        raise Invalid(f"{name} is empty")
    return StoredFile(
        storage_name=storage_name,
        filename=name,
        content_type=(upload.content_type or "application/octet-stream")[:200],
        size=size,
        sha256=digest.hexdigest(),
    )


async def store_all(
    uploads: Sequence[UploadFile], *, directory: Path, limit: int
) -> list[StoredFile]:
    """Store every upload a form or a request gave (a file field left empty is skipped); when
    one is refused, those already stored are removed again and the refusal raised. The caller
    removes them (:func:`discard`) when what they belong to is not written."""
    stored: list[StoredFile] = []
    try:
        for upload in uploads:
            if upload.filename:
                stored.append(await store(upload, directory=directory, limit=limit))
    except BaseException:
        discard(directory, stored)
        raise
    return stored


def discard(directory: Path, stored: list[StoredFile]) -> None:
    """Remove files whose database rows were not written (the transaction failed)."""
    for item in stored:
        path_of(directory, item.storage_name).unlink(missing_ok=True)
