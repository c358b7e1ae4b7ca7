"""The public side: advisories, JSON, the Atom feed, credited researchers and security.txt —
and an embargoed or undisclosed case visible on none of them (every public route is walked)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sectxt
from csaf_lib.verification.verifier import Verifier
from defusedxml.ElementTree import fromstring
from pysequoia import Sig, Tsk, verify
from sqlalchemy import text

from disclosure import bsi_validator
from disclosure.flows import approve_text, disclose, mitigate
from helpers import MakeUser, api_token, bearer
from notify.notify_world import draft, world_maker
from vulnops.auth.roles import PUBLIC, Role
from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db.database import Database
from vulnops.disclosure import csaf
from vulnops.fleet import blast, importer
from vulnops.settings import Settings
from vulnops.web.app import create_app
from vulnops.web.routes import endpoints

ATOM = "{http://www.w3.org/2005/Atom}"


MARKER = "INTERNAL-7Q-MARKER"


async def _cases(
    db: Database,
    fleet: dict[str, Any],
    client: httpx.AsyncClient,
    make_user: MakeUser,
    settings: Settings,
) -> dict[str, str]:
    """Three cases: public (notified, disclosed now, a credited report), embargoed (disclosed
    for next week) and undisclosed (its public text approved, its disclosure not). Every
    internal title and summary carries ``MARKER``. Returns their public titles by name."""
    world = await world_maker(db, fleet, settings)()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    researcher = bearer(await api_token(db, await make_user(Role.RESEARCHER)))
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    url = f"/api/cases/{world.case_id}/advisory"
    await client.put(url, json=draft(), headers=comms)
    await client.post(f"{url}/approve", headers=approver)
    assert (await client.post(f"{url}/send", headers=comms)).status_code == 200
    for title, credit in (("Bucket names leak", "Robin Hood"), ("Buy watches", "Spammer")):
        report = await client.post(
            "/api/reports",
            json={"title": title, "description": "Steps.", "credit_name": credit},
            headers=researcher,
        )
        if credit == "Spammer":
            await client.post(
                f"/api/reports/{report.json()['id']}/transition",
                json={"state": "closed", "close_reason": "spam", "resolution": "Spam."},
                headers=responder,
            )
        merged = await client.post(
            f"/api/reports/{report.json()['id']}/merge",
            json={"case_id": world.case_id},
            headers=responder,
        )
        assert merged.status_code == 200, merged.text
    now = datetime.now(UTC)
    titles = {"public": "Bucket names of other tenants could be listed"}
    case_ids = {"public": world.case_id}
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET title = :t, summary = :s WHERE id = :c"),
            {"t": f"{MARKER} title", "s": f"{MARKER}: worker 7 keys", "c": world.case_id},
        )
        for name in ("embargoed", "undisclosed"):
            case = await cases.open_case(
                session,
                title=f"{MARKER} {name}",
                summary=f"{MARKER} do not tell.",
                services=["storage"],
                actor="t",
                settings=settings,
                now=now,
            )
            titles[name], case_ids[name] = f"Secret {name} issue", case.id
            for state, reason in (("mitigated", "config"), ("notified", "nobody to tell")):
                await cases.transition(
                    session,
                    case_id=case.id,
                    target=CaseState(state),
                    reason=reason,
                    actor="t",
                    now=now,
                    settings=settings,
                )
        await session.commit()
    for name, case_id in case_ids.items():
        await approve_text(db, settings, case_id, title=titles[name])
    await disclose(db, settings, case_ids["public"], cve_choice=None)
    await disclose(db, settings, case_ids["embargoed"], public_from=now + timedelta(days=7))
    async with db.session() as session:
        ids = dict((await session.execute(text("SELECT id, tracking_id FROM cases"))).all())
    titles.update({f"{name}_id": ids[case_id] for name, case_id in case_ids.items()})
    return titles


def _filled(path: str, tracking_id: str) -> str:
    """A route's path for one case: its tracking id, or its CSAF file and year (any other
    parameter — an on-call feed's schedule — names nothing)."""
    values = {
        "year": str(datetime.now(UTC).year),
        "name": csaf.file_name(tracking_id),
        "tracking_id": tracking_id,
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "absent"), path)


def _listed(response: httpx.Response) -> list[str]:
    """The links of a CSAF directory listing, in order."""
    assert response.status_code == 200, response.text
    listing = response.text.split('data-testid="csaf-directory"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', listing)


def _verified(document: dict[str, Any]) -> None:
    """Passes the BSI validator's schema and mandatory tests, and csaf-lib's checks: its data
    type checks (the schema among them) for every document, its VEX profile tests too for a
    ``csaf_vex``."""
    bsi_validator.assert_passes(document)
    verifier = Verifier(document)
    vex = document["document"]["category"] == "csaf_vex"
    report = verifier.run_all() if vex else verifier.run_data_type_checks()
    failed = [
        f"{r.test_id} {r.test_name}: {r.message} {r.details}"
        for r in report.results
        if r.status.value == "fail"
    ]
    assert failed == [], failed


async def test_public_pages_feed_and_json_show_only_disclosed_cases(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    fleet: dict[str, Any],
    make_user: MakeUser,
) -> None:
    known = await _cases(db, fleet, client, make_user, settings)
    listing = await client.get("/security/advisories")
    assert listing.status_code == 200 and known["public_id"] in listing.text
    items = (await client.get("/security/advisories.json")).json()["items"]
    assert [item["id"] for item in items] == [known["public_id"]]
    assert items[0]["credits"] == ["Robin Hood"]
    page = await client.get(f"/security/advisories/{known['public_id']}")
    assert "Robin Hood" in page.text and known["public"] in page.text
    feed = fromstring((await client.get("/security/advisories.atom")).content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1 and known["public_id"] in (entries[0].findtext(f"{ATOM}title") or "")
    researchers = await client.get("/security/researchers")
    assert "Robin Hood" in researchers.text
    txt = (await client.get("/.well-known/security.txt")).text
    fields = dict(line.split(": ", 1) for line in txt.strip().splitlines())
    assert set(fields) >= {"Contact", "Expires", "Policy", "Acknowledgments", "CSAF"}
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert timedelta(days=1) < expires - datetime.now(UTC) < timedelta(days=366)

    metadata = (await client.get("/.well-known/csaf/provider-metadata.json")).json()
    assert metadata["role"] == "csaf_publisher" and metadata["metadata_version"] == "2.0"
    index = (await client.get("/.well-known/csaf/white/index.txt")).text.split()
    year = datetime.now(UTC).year
    assert index == [f"{year}/{csaf.file_name(known['public_id'])}"]
    changes = (await client.get("/.well-known/csaf/white/changes.csv")).text
    assert changes.startswith(f'"{index[0]}",')
    advisory = (await client.get(f"/.well-known/csaf/white/{index[0]}")).json()
    assert advisory["document"]["tracking"]["id"] == known["public_id"]
    _verified(advisory)
    for unsigned in (".asc", ".sha256"):  # no key configured: nothing claims to be signed
        assert (
            await client.get(f"/.well-known/csaf/white/{index[0]}{unsigned}")
        ).status_code == 404
    for value in (known["embargoed_id"], known["undisclosed_id"]):
        hidden_file = f"/.well-known/csaf/white/{year}/{csaf.file_name(value)}"
        assert (await client.get(hidden_file)).status_code == 404
    # Directory listings (CSAF requirement 14), without which a directory is no distribution.
    assert _listed(await client.get("/.well-known/csaf/white/")) == [
        "/.well-known/csaf/white/index.txt",
        "/.well-known/csaf/white/changes.csv",
        f"/.well-known/csaf/white/{year}/",
    ]
    assert _listed(await client.get(f"/.well-known/csaf/white/{year}/")) == [
        "../",
        f"/.well-known/csaf/white/{index[0]}",
    ]
    assert (await client.get(f"/.well-known/csaf/white/{year - 1}/")).status_code == 404

    # Walk every public GET route; fill path parameters with each hidden case's id. No
    # internal title or summary is anywhere (the marker), a hidden case's text neither.
    hidden = [
        known["embargoed"],
        known["embargoed_id"],
        known["undisclosed"],
        known["undisclosed_id"],
        MARKER,
        "Spammer",
    ]
    walked = 0
    for endpoint in endpoints(create_app(settings, database=db).routes):
        if endpoint.rule is not PUBLIC or "GET" not in endpoint.methods:
            continue
        for value in (known["embargoed_id"], known["undisclosed_id"], known["public_id"]):
            path = _filled(endpoint.path, value)
            response = await client.get(path)
            walked += 1
            for secret in hidden:
                assert secret not in response.text, f"{path} shows {secret!r}"
        if "{tracking_id" in endpoint.path or "{name" in endpoint.path:  # names one case
            for value in (known["embargoed_id"], known["undisclosed_id"]):
                path = _filled(endpoint.path, value)
                assert (await client.get(path)).status_code == 404
    assert walked >= 30


async def test_csaf_exports_of_a_disclosed_case_pass_csaf_lib(
    client: httpx.AsyncClient,
    db: Database,
    fleet: dict[str, Any],
    make_user: MakeUser,
    settings: Settings,
) -> None:
    known = await _cases(db, fleet, client, make_user, settings)
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    async with db.session() as session:
        await session.execute(
            text(
                "UPDATE cases SET cvss31_vector = :v, cwe_id = 200, "
                "customer_action_required = true WHERE tracking_id = :t"
            ),
            {"v": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "t": known["public_id"]},
        )
        case_ids = dict((await session.execute(text("SELECT tracking_id, id FROM cases"))).all())
        await session.commit()
    public_id = case_ids[known["public_id"]]
    await mitigate(db, settings, public_id)
    for category in ("csaf_security_advisory", "csaf_vex"):
        response = await client.get(
            f"/api/cases/{public_id}/csaf", params={"category": category}, headers=responder
        )
        assert response.status_code == 200, response.text
        document = response.json()
        assert document["document"]["category"] == category
        # Found: the name was the id, which fails the BSI validator's mandatory test 6.1.11.
        assert document["vulnerabilities"][0]["cwe"] == {
            "id": "CWE-200",
            "name": "Exposure of Sensitive Information to an Unauthorized Actor",
        }
        assert document["document"]["title"] == known["public"] and MARKER not in response.text
        _verified(document)
    cna = settings.model_copy(update={"cna_org_id": "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"})
    transport = httpx.ASGITransport(app=create_app(cna, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ours:
        record = await ours.get(
            f"/api/cases/{public_id}/cve-record",
            params={"cve_id": "CVE-2026-4242"},
            headers=responder,
        )
    assert record.json()["valid"] and MARKER not in record.text
    assert record.json()["record"]["containers"]["cna"]["title"] == known["public"]
    undisclosed = await client.get(
        f"/api/cases/{case_ids[known['undisclosed_id']]}/csaf", headers=responder
    )
    assert undisclosed.status_code == 409 and "not disclosed" in undisclosed.json()["detail"]


async def test_the_vex_export_states_every_known_version_of_the_service(
    client: httpx.AsyncClient,
    db: Database,
    fleet: dict[str, Any],
    make_user: MakeUser,
    settings: Settings,
) -> None:
    """Found: the VEX document was the advisory under another category. With a blast radius by
        component, each version of the case's service that the SBOMs clear is not affected, with
        the reason: the package absent (a build without it is imported here) or only outside the
        range; the versions running the package in the range are affected, and one that holds it in
    the range but runs nowhere is not stated."""
    known = await _cases(db, fleet, client, make_user, settings)
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    log4j = "pkg:maven/org.apache.logging.log4j/log4j-core"
    without = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"type": "library", "name": "lodash", "purl": "pkg:npm/lodash@4.17.21"}],
    }
    async with db.session() as session:
        case_id = await session.scalar(
            text("SELECT id FROM cases WHERE tracking_id = :t"), {"t": known["public_id"]}
        )
        assert case_id is not None
        await importer.import_bundle(
            session,
            actor="t",
            sboms=[importer.SbomIn("storage", "2026.9.1", json.dumps(without), "storage@2026.9.1")],
        )
        radius = await blast.compute(
            session,
            case_id=case_id,
            criteria=blast.BlastCriteria(
                services=["storage"],
                component=blast.ComponentCriterion(purl=log4j, range="vers:maven/<2.17.2"),
            ),
            actor="t",
        )
        held = dict(
            (
                await session.execute(
                    text(
                        "SELECT sv.version, c.version FROM components c "
                        "JOIN service_versions sv ON sv.id = c.service_version_id "
                        "JOIN services s ON s.id = sv.service_id "
                        "WHERE s.key = 'storage' AND c.name = 'log4j-core'"
                    )
                )
            ).all()
        )
        await session.commit()
    running = sorted(row["version"] for row in radius.service_versions)
    inside = {version for version, found in held.items() if found in ("2.14.1", "2.17.1")}
    assert running and set(running) < inside  # one build with the old package runs nowhere
    outside = sorted(set(held) - inside)
    assert outside  # the newest build holds 2.17.2
    await mitigate(db, settings, case_id)
    response = await client.get(
        f"/api/cases/{case_id}/csaf", params={"category": "csaf_vex"}, headers=responder
    )
    assert response.status_code == 200, response.text
    vex = response.json()
    [vulnerability] = vex["vulnerabilities"]
    status = vulnerability["product_status"]
    assert status["known_affected"] == [f"storage:{version}" for version in running]
    assert sorted(status["known_not_affected"]) == sorted(
        ["storage:2026.9.1", *(f"storage:{version}" for version in outside)]
    )
    assert {flag["label"]: flag["product_ids"] for flag in vulnerability["flags"]} == {
        "component_not_present": ["storage:2026.9.1"],
        "vulnerable_code_not_present": [f"storage:{version}" for version in outside],
    }
    stated = {*status["known_affected"], *status["known_not_affected"], *status.get("fixed", [])}
    assert not {f"storage:{version}" for version in inside - set(running)} & stated
    _verified(vex)
    advisory = await client.get(f"/api/cases/{case_id}/csaf", headers=responder)
    assert "known_not_affected" not in advisory.json()["vulnerabilities"][0]["product_status"]


async def test_with_a_key_the_directory_is_signed_and_security_txt_passes_an_rfc_9116_check(
    db: Database,
    fleet: dict[str, Any],
    make_user: MakeUser,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Found: no hashes, no signatures (so only the publisher role), and a security.txt that
    fails an RFC 9116 checker with the defaults (http) and has no Encryption field."""
    key = Tsk.generate("Example Cloud Security <security@cloud.example>")
    key_file = tmp_path / "signing.asc"
    key_file.write_text(str(key))
    cert = key.extract_certificate()
    signed = settings.model_copy(
        update={"openpgp_key_file": key_file, "public_url": "https://cloud.example"}
    )
    transport = httpx.ASGITransport(app=create_app(signed, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        known = await _cases(db, fleet, client, make_user, signed)
        txt = (await client.get("/.well-known/security.txt")).content
        metadata = (await client.get("/.well-known/csaf/provider-metadata.json")).json()
        [published] = (await client.get("/.well-known/csaf/white/index.txt")).text.split()
        listing = _listed(await client.get(f"/.well-known/csaf/white/{published.split('/')[0]}/"))
        files = {
            suffix: await client.get(f"/.well-known/csaf/white/{published}{suffix}")
            for suffix in ("", ".sha256", ".sha512", ".asc")
        }
        [key_url] = [line for line in txt.decode().splitlines() if line.startswith("Encryption:")]
        public_key = await client.get(key_url.split(": ", 1)[1].removeprefix(signed.public_url))
    checked = sectxt.Parser(txt)
    assert checked.is_valid() and checked.errors == [], checked.errors
    assert txt.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----")
    assert b"Contact: mailto:" in verify(bytes=txt, store=lambda _ids: [cert]).bytes
    assert public_key.status_code == 200 and "PUBLIC KEY BLOCK" in public_key.text
    assert "PRIVATE" not in public_key.text
    fingerprint = str(cert.fingerprint).upper()
    assert metadata["role"] == "csaf_trusted_provider"
    key_at = f"https://cloud.example/.well-known/csaf/openpgp/{fingerprint}.asc"
    assert metadata["public_openpgp_keys"] == [{"fingerprint": fingerprint, "url": key_at}]
    assert key_url == f"Encryption: {key_at}"
    document = files[""].content
    name = published.split("/")[1]
    assert files[".sha256"].text == f"{hashlib.sha256(document).hexdigest()}  {name}\n"
    assert files[".sha512"].text == f"{hashlib.sha512(document).hexdigest()}  {name}\n"
    signature = Sig.from_bytes(files[".asc"].content)
    assert verify(bytes=document, store=lambda _ids: [cert], signature=signature).valid_sigs
    with pytest.raises(RuntimeError):  # the signature is of exactly those bytes
        verify(bytes=document + b" ", store=lambda _ids: [cert], signature=signature)
    assert known["public_id"].lower() in name
    assert listing == [
        "../",
        *(f"/.well-known/csaf/white/{published}{suffix}" for suffix in files),
    ]


async def test_without_a_key_nothing_claims_to_be_signed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.openpgp_key_file is None
    metadata = (await client.get("/.well-known/csaf/provider-metadata.json")).json()
    assert metadata["role"] == "csaf_publisher" and "public_openpgp_keys" not in metadata
    txt = (await client.get("/.well-known/security.txt")).text
    assert "Encryption:" not in txt and "PGP" not in txt
