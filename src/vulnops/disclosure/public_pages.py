"""The public side of disclosure, no sign-in needed: the advisory list and pages (HTML and
JSON), an Atom feed, the credited researchers, and ``/.well-known/security.txt`` (signed when
an OpenPGP key is configured). The CSAF directory is ``csaf_pages``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC
from vulnops.db.bounded import PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.disclosure import csaf_pages, public, signing
from vulnops.settings import Settings
from vulnops.ui.templating import render

router = APIRouter(dependencies=[require(PUBLIC)], tags=["public"])
ATOM = "http://www.w3.org/2005/Atom"
SECURITY_TXT_VALIDITY = timedelta(days=180)


def _base(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.public_url.rstrip("/")


@router.get("/security/advisories.json")
async def advisories_json(
    session: SessionDep, page: Annotated[PageNumber, Query(ge=1)] = 1
) -> dict[str, Any]:
    found = await public.public_cases(session, now=datetime.now(UTC), page=page)
    return {
        "items": [item.as_json() for item in found.items],
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
    }


class AtomResponse(Response):
    media_type = "application/atom+xml"


@router.get("/security/advisories.atom", response_class=AtomResponse)
async def advisories_atom(request: Request, session: SessionDep) -> Response:
    """The newest 50 public advisories as an Atom feed."""
    found = await public.public_cases(session, now=datetime.now(UTC), per_page=50)
    base = _base(request)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base}/security/advisories"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "Security advisories"
    updated = found.items[0].public_from if found.items else datetime(2026, 1, 1, tzinfo=UTC)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated.isoformat()
    ET.SubElement(feed, f"{{{ATOM}}}link", href=f"{base}/security/advisories.atom", rel="self")
    for item in found.items:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        url = f"{base}/security/advisories/{item.tracking_id}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        title = f"{item.tracking_id}{f' ({item.cve_id})' if item.cve_id else ''}: {item.title}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = item.public_from.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}link", href=url)
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = item.description
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = "Security response team"
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return AtomResponse(body)


@router.get("/security/advisories", response_class=HTMLResponse)
async def advisories_page(
    request: Request, session: SessionDep, page: Annotated[PageNumber, Query(ge=1)] = 1
) -> HTMLResponse:
    found = await public.public_cases(session, now=datetime.now(UTC), page=page)
    return render(
        request,
        "public/list.html",
        {"page": found, "page_url": lambda number: f"/security/advisories?page={number}"},
    )


@router.get("/security/advisories/{tracking_id}.json")
async def advisory_json(tracking_id: Text, session: SessionDep) -> dict[str, Any]:
    found = await public.public_case(session, tracking_id=tracking_id, now=datetime.now(UTC))
    return found.as_json()


@router.get("/security/advisories/{tracking_id}", response_class=HTMLResponse)
async def advisory_page(request: Request, tracking_id: Text, session: SessionDep) -> HTMLResponse:
    found = await public.public_case(session, tracking_id=tracking_id, now=datetime.now(UTC))
    return render(request, "public/detail.html", {"advisory": found})


@router.get("/security/researchers", response_class=HTMLResponse)
async def researchers_page(request: Request, session: SessionDep) -> HTMLResponse:
    found = await public.credited(session, now=datetime.now(UTC))
    return render(request, "public/researchers.html", {"researchers": found})


@router.get("/.well-known/security.txt", response_class=PlainTextResponse)
async def security_txt(request: Request) -> str:
    """RFC 9116. ``Expires`` is always six months ahead: the file is made on each request.
    With a key configured, the file is cleartext-signed and names the key for encryption."""
    settings: Settings = request.app.state.settings
    base = _base(request)
    expires = (datetime.now(UTC) + SECURITY_TXT_VALIDITY).replace(microsecond=0)
    key = signing.signer(settings.openpgp_key_file)
    fields = [
        f"Contact: mailto:{settings.notify_contact_email}",
        f"Contact: {base}/reports/new",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        *([f"Encryption: {base}{csaf_pages.key_path(key)}"] if key else []),
        f"Policy: {base}/security/advisories",
        f"Acknowledgments: {base}/security/researchers",
        f"CSAF: {base}/.well-known/csaf/provider-metadata.json",
        f"Canonical: {base}/.well-known/security.txt",
        "Preferred-Languages: en",
        "",
    ]
    text = "\n".join(fields)
    return key.cleartext(text) if key else text
