"""The CSAF 2.0 directory of the public advisories (TLP:WHITE), no sign-in needed: the provider
metadata, the index and changes, directory listings (the standard's requirement 14, so the
directory is a complete distribution and no ROLIE feed is needed), each document, and — with
an OpenPGP key configured (``signing``) — each document's ``.sha256``, ``.sha512`` and ``.asc``
files and the public key, so that the metadata claims the ``csaf_trusted_provider`` role;
without a key, ``csaf_publisher``.

A document's bytes are made one way (``csaf.serialized``), so its hashes and signature are of
exactly what ``GET …/{file}.json`` answers.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC
from vulnops.db.bounded import Id, Text
from vulnops.db.deps import SessionDep
from vulnops.disclosure import csaf, public, service, signing
from vulnops.errors import NotFound
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(dependencies=[require(PUBLIC)], tags=["public"])
HASHES = {".sha256": hashlib.sha256, ".sha512": hashlib.sha512}


def key_path(key: signing.Signer) -> str:
    """Where the public key is served (the CSAF directory's ``openpgp/`` folder)."""
    return f"/.well-known/csaf/openpgp/{key.fingerprint}.asc"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _base(request: Request) -> str:
    return _settings(request).public_url.rstrip("/")


@router.get("/.well-known/csaf/provider-metadata.json")
async def provider_metadata(request: Request, session: SessionDep) -> dict[str, Any]:
    """CSAF 2.0 provider metadata: a trusted provider when the documents are signed."""
    settings = _settings(request)
    base = _base(request)
    key = signing.signer(settings.openpgp_key_file)
    index = await public.public_index(session, now=datetime.now(UTC))
    updated = index[-1][1] if index else datetime(2026, 1, 1, tzinfo=UTC)
    metadata: dict[str, Any] = {
        "canonical_url": f"{base}/.well-known/csaf/provider-metadata.json",
        "distributions": [{"directory_url": f"{base}/.well-known/csaf/white/"}],
        "last_updated": updated.isoformat(),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": {
            "category": "vendor",
            "name": settings.vendor_name,
            "namespace": settings.public_url,
        },
        "role": "csaf_trusted_provider" if key else "csaf_publisher",
    }
    if key:
        metadata["public_openpgp_keys"] = [
            {"fingerprint": key.fingerprint, "url": f"{base}{key_path(key)}"}
        ]
    return metadata


@router.get("/.well-known/csaf/openpgp/{name}", response_class=PlainTextResponse)
async def public_key(name: Text, request: Request) -> str:
    """The signing key's public part (404 when none is configured)."""
    key = signing.signer(_settings(request).openpgp_key_file)
    if key is None or name != f"{key.fingerprint}.asc":
        raise NotFound("no such key")
    return key.public_key


@router.get("/.well-known/csaf/white/index.txt", response_class=PlainTextResponse)
async def csaf_index(session: SessionDep) -> str:
    index = await public.public_index(session, now=datetime.now(UTC))
    return "".join(f"{csaf.path(tracking_id, at)}\n" for tracking_id, at in index)


@router.get("/.well-known/csaf/white/changes.csv", response_class=PlainTextResponse)
async def csaf_changes(session: SessionDep) -> str:
    index = await public.public_index(session, now=datetime.now(UTC))
    return "".join(
        f'"{csaf.path(tracking_id, at)}","{at.isoformat()}"\n'
        for tracking_id, at in reversed(index)
    )


@router.get("/.well-known/csaf/white/", response_class=HTMLResponse)
async def csaf_directory(request: Request, session: SessionDep) -> HTMLResponse:
    """The TLP:WHITE folder's listing: the index, the changes and a folder per year."""
    years = await public.public_years(session, now=datetime.now(UTC))
    entries = ["index.txt", "changes.csv", *(f"{year}/" for year in years)]
    return _listing(request, "/.well-known/csaf/white/", entries)


@router.get("/.well-known/csaf/white/{year:int}/", response_class=HTMLResponse)
async def csaf_year(year: Id, request: Request, session: SessionDep) -> HTMLResponse:
    """One year's folder: each document, and its hashes and signature when they exist."""
    index = await public.public_index(session, now=datetime.now(UTC), year=year)
    if not index:
        raise NotFound("no public advisory in that year")
    signed = signing.signer(_settings(request).openpgp_key_file) is not None
    suffixes = ("", *HASHES, ".asc") if signed else ("",)
    entries = [
        csaf.file_name(tracking_id) + suffix for tracking_id, _ in index for suffix in suffixes
    ]
    return _listing(request, f"/.well-known/csaf/white/{year}/", entries)


def _listing(request: Request, folder: str, entries: list[str]) -> HTMLResponse:
    return render(request, "public/csaf_directory.html", {"folder": folder, "entries": entries})


@router.get("/.well-known/csaf/white/{year:int}/{name}")
async def csaf_file(year: Id, name: Text, request: Request, session: SessionDep) -> Response:
    """A public case's CSAF advisory, where the standard's directory puts it; with a key
    configured also its ``.sha256``, ``.sha512`` and detached ``.asc`` signature."""
    document_name, suffix = name, ""
    for extra in (*HASHES, ".asc"):
        if name.endswith(f".json{extra}"):
            document_name, suffix = name.removesuffix(extra), extra
    tracking_id = document_name.removesuffix(".json").upper()
    found = await public.public_case(session, tracking_id=tracking_id, now=datetime.now(UTC))
    if found.public_from.year != year or csaf.file_name(found.tracking_id) != document_name:
        raise NotFound("no such public advisory")
    settings = _settings(request)
    key = signing.signer(settings.openpgp_key_file)
    if suffix and key is None:
        raise NotFound("the documents are not signed here (no OpenPGP key is configured)")
    document = await service.csaf_document(
        session, case_id=found.id, category="csaf_security_advisory", settings=settings
    )
    data = csaf.serialized(document)
    if suffix in HASHES:
        return PlainTextResponse(f"{HASHES[suffix](data).hexdigest()}  {document_name}\n")
    if suffix == ".asc" and key is not None:
        return PlainTextResponse(key.detached(data), media_type="application/pgp-signature")
    return Response(data, media_type="application/json")
