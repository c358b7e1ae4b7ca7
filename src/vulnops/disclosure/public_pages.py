"""The public side of disclosure, no sign-in needed: the advisory list and pages (HTML and
JSON), an Atom feed, the credited researchers, and ``/.well-known/security.txt``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from vulnops.auth.deps import require
from vulnops.auth.roles import PUBLIC
from vulnops.db.bounded import Id, PageNumber, Text
from vulnops.db.deps import SessionDep
from vulnops.disclosure import csaf, public, service
from vulnops.errors import NotFound
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
    """RFC 9116. ``Expires`` is always six months ahead: the file is made on each request."""
    settings: Settings = request.app.state.settings
    base = _base(request)
    expires = (datetime.now(UTC) + SECURITY_TXT_VALIDITY).replace(microsecond=0)
    return "\n".join(
        [
            f"Contact: mailto:{settings.notify_contact_email}",
            f"Contact: {base}/reports/new",
            f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
            f"Policy: {base}/security/advisories",
            f"Acknowledgments: {base}/security/researchers",
            f"CSAF: {base}/.well-known/csaf/provider-metadata.json",
            f"Canonical: {base}/.well-known/security.txt",
            "Preferred-Languages: en",
            "",
        ]
    )


def _csaf_path(tracking_id: str, released: datetime) -> str:
    return f"{released.year}/{csaf.file_name(tracking_id)}"


@router.get("/.well-known/csaf/provider-metadata.json")
async def provider_metadata(request: Request, session: SessionDep) -> dict[str, Any]:
    """CSAF 2.0 provider metadata (role: publisher; the documents are not signed yet)."""
    settings: Settings = request.app.state.settings
    base = _base(request)
    index = await public.public_index(session, now=datetime.now(UTC))
    updated = index[-1][1] if index else datetime(2026, 1, 1, tzinfo=UTC)
    return {
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
        "role": "csaf_publisher",
    }


@router.get("/.well-known/csaf/white/index.txt", response_class=PlainTextResponse)
async def csaf_index(session: SessionDep) -> str:
    index = await public.public_index(session, now=datetime.now(UTC))
    return "".join(f"{_csaf_path(tracking_id, at)}\n" for tracking_id, at in index)


@router.get("/.well-known/csaf/white/changes.csv", response_class=PlainTextResponse)
async def csaf_changes(session: SessionDep) -> str:
    index = await public.public_index(session, now=datetime.now(UTC))
    return "".join(
        f'"{_csaf_path(tracking_id, at)}","{at.isoformat()}"\n'
        for tracking_id, at in reversed(index)
    )


@router.get("/.well-known/csaf/white/{year:int}/{name}")
async def csaf_file(year: Id, name: Text, request: Request, session: SessionDep) -> dict[str, Any]:
    """A public case's CSAF advisory, where the standard's directory puts it."""
    tracking_id = name.removesuffix(".json").upper()
    found = await public.public_case(session, tracking_id=tracking_id, now=datetime.now(UTC))
    if found.public_from.year != year or csaf.file_name(found.tracking_id) != name:
        raise NotFound("no such public advisory")
    settings: Settings = request.app.state.settings
    return await service.csaf_document(
        session, case_id=found.id, category="csaf_security_advisory", settings=settings
    )
