"""Importing and exporting the inventory through the API, on a real PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from helpers import MakeUser, api_token, bearer, sample
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.fleet import generator, staging
from vulnops.fleet.models import Component, DeploymentUnit, Region, Resource, Service
from vulnops.settings import Settings
from vulnops.tenants.models import Tenant, TenantContact
from vulnops.web.app import create_app


@pytest.fixture
def fleet_dir(tmp_path: Path) -> Path:
    generator.write(tmp_path / "fleet", seed=3, scale_name="small")
    return tmp_path / "fleet"


async def _counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (
                Service,
                Region,
                DeploymentUnit,
                Tenant,
                TenantContact,
                Resource,
                Component,
            )
        }


def _files(fleet_dir: Path, **override: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes]]]:
    files = [
        ("topology", ("topology.yaml", (fleet_dir / "topology.yaml").read_bytes())),
        ("tenants", ("tenants.csv", (fleet_dir / "tenants.csv").read_bytes())),
        ("resources", ("resources.csv", (fleet_dir / "resources.csv").read_bytes())),
    ]
    files = [(name, override.get(name, content)) for name, content in files]
    for path in sorted((fleet_dir / "sboms").iterdir()):
        files.append(("sbom", (path.name, path.read_bytes())))
    return files


async def _import(
    client: httpx.AsyncClient, headers: dict[str, str], files: list
) -> httpx.Response:  # type: ignore[type-arg]
    return await client.post("/api/fleet/import", files=files, headers=headers)


async def test_a_generated_fleet_imports_whole_and_again_without_duplicates(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.RELEASE_MANAGER)))
    first = await _import(client, headers, _files(fleet_dir))
    assert first.status_code == 201, first.text
    assert first.json()["resources"] == 3000 and first.json()["sboms"] == 15
    counts = await _counts(db)
    assert counts["regions"] == 10 and counts["services"] == 5
    assert counts["resources"] == 3000 and counts["tenants"] == 300
    assert counts["components"] == 15 * 6
    again = await _import(client, headers, _files(fleet_dir))
    assert again.status_code == 201
    assert await _counts(db) == counts
    regions = (await client.get("/api/fleet/regions", headers=headers)).json()
    pairs = {r["key"]: r["pair"] for r in regions}
    assert all(pairs[pair] == key for key, pair in pairs.items() if pair)
    assert sum(1 for r in regions if r["canary"]) == 2


async def test_imports_may_be_larger_than_other_requests(
    make_user: MakeUser, db: Database, settings: Settings
) -> None:
    """The application refuses bodies over its limit (the largest upload, plus a MiB), but a
    fleet import may be much larger."""
    small = settings.model_copy(update={"max_attachment_bytes": 1024, "max_sarif_bytes": 1024})
    app = create_app(small, database=db)
    headers = bearer(await api_token(db, await make_user(Role.RELEASE_MANAGER)))
    rows = [
        f"big-{n:05d},{'Tenant ' + 'x' * 180} {n},security@big-{n}.example,\n" for n in range(8000)
    ]
    tenants_csv = ("key,name,security_emails,webhook_url\n" + "".join(rows)).encode()
    assert len(tenants_csv) > 2**20 + 2048
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        imported = await _import(client, headers, [("tenants", ("tenants.csv", tenants_csv))])
        elsewhere = await client.post(
            "/api/reports",
            json={"title": "x" * 20, "description": "y" * len(tenants_csv)},
            headers=headers,
        )
    assert imported.status_code == 201, imported.text
    assert imported.json()["tenants"] == 8000
    assert elsewhere.status_code == 413


async def test_an_import_with_one_bad_line_imports_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    lines = (fleet_dir / "resources.csv").read_text().splitlines(keepends=True)
    lines[41] = "contoso,storage,nowhere-1,su-01,res-bad,\n"
    bad = ("resources.csv", "".join(lines).encode())
    response = await _import(client, headers, _files(fleet_dir, resources=bad))
    assert response.status_code == 422
    assert "line 42: unknown deployment unit storage/nowhere-1/su-01" in response.json()["detail"]
    assert all(count == 0 for count in (await _counts(db)).values())


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ghost,storage,eu-west-1,su-01,res-x,\n", "unknown tenant 'ghost'"),
        ("contoso,storage,eu-west-1,su-01,,\n", "resource_id: missing"),
        ('contoso,storage,eu-west-1,su-01,"unterminated\n', "unterminated CSV quoted field"),
    ],
)
async def test_bad_resource_lines_are_named(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    db: Database,
    fleet_dir: Path,
    line: str,
    message: str,
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    lines = (fleet_dir / "resources.csv").read_text().splitlines(keepends=True)
    lines.insert(5, line)
    response = await _import(
        client, headers, _files(fleet_dir, resources=("r.csv", "".join(lines).encode()))
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert (await _counts(db))["resources"] == 0


async def test_a_duplicate_resource_and_a_wrong_header_are_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    lines = (fleet_dir / "resources.csv").read_text().splitlines(keepends=True)
    duplicated = "".join([*lines, lines[1]]).encode()
    response = await _import(client, headers, _files(fleet_dir, resources=("r.csv", duplicated)))
    assert "duplicate resource" in response.json()["detail"]
    wrong = "".join(["tenant,svc,region,unit,id,tags\n", *lines[1:]]).encode()
    response = await _import(client, headers, _files(fleet_dir, resources=("r.csv", wrong)))
    assert response.status_code == 422
    assert (
        "line 1: the header must be tenant,service,region,scale_unit,resource_id,tags"
        in (response.json()["detail"])
    )


async def test_bad_tenant_contacts_are_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    tenants = (
        b"key,name,security_emails,webhook_url\n"
        b"acme,Acme,sec@acme.example;not-an-email,\n"
        b"beta,Beta,,ftp://beta.example/hook\n"
        b"Bad Key,Gamma,,\n"
    )
    response = await _import(client, headers, [("tenants", ("tenants.csv", tenants))])
    assert response.status_code == 422
    lines = {(error["line"], error["msg"].split(":")[0]) for error in response.json()["errors"]}
    assert (2, "security_emails") in lines
    assert (3, "webhook_url") in lines
    assert (4, "key") in lines
    assert (await _counts(db))["tenants"] == 0


async def test_tenants_bring_their_language_and_time_zone(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    """Checked once per distinct value, stored normalized; an empty cell keeps the tenant's
    own; a file without the two columns still imports; a bad one names its line."""
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    tenants = (
        b"key,name,security_emails,webhook_url,language,time_zone\n"
        b"acme,Acme,,,fr-ca,America/Toronto\n"
        b"beta,Beta,,,,\n"
        b"gamma,Gamma,,,pt-BR,\n"
    )
    response = await _import(client, headers, [("tenants", ("tenants.csv", tenants))])
    assert response.status_code == 201, response.text

    async def preferences() -> dict[str, tuple[str, str]]:
        async with db.session() as session:
            rows = await session.execute(text("SELECT key, language, time_zone FROM tenants"))
            return {key: (language, zone) for key, language, zone in rows}

    assert await preferences() == {
        "acme": ("fr-CA", "America/Toronto"),
        "beta": ("en", "UTC"),
        "gamma": ("pt-BR", "UTC"),
    }
    # Without the two columns (or with them empty) the tenants keep what they had.
    again = b"key,name,security_emails,webhook_url\nacme,Acme Corp,,\n"
    assert (await _import(client, headers, [("tenants", ("t.csv", again))])).status_code == 201
    assert (await preferences())["acme"] == ("fr-CA", "America/Toronto")

    bad = (
        b"key,name,security_emails,webhook_url,language,time_zone\n"
        b"acme,Acme,,,en_US,Europe/Paris\n"
        b"beta,Beta,,,fr,Mars/Olympus\n"
    )
    refused = await _import(client, headers, [("tenants", ("tenants.csv", bad))])
    assert refused.status_code == 422
    found = {(error["line"], error["msg"].split(":")[0]) for error in refused.json()["errors"]}
    assert found == {(2, "language"), (3, "time_zone")}
    assert (await preferences())["beta"] == ("en", "UTC")  # nothing half-written


async def test_an_sbom_that_is_not_cyclonedx_imports_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    files = _files(fleet_dir)
    files.append(("sbom", ("storage@9.9.cdx.json", json.dumps({"spdxVersion": "2.3"}).encode())))
    response = await _import(client, headers, files)
    assert response.status_code == 422
    assert "storage@9.9.cdx.json: not a CycloneDX SBOM" in response.json()["detail"]
    assert all(count == 0 for count in (await _counts(db)).values())


async def test_a_real_sbom_goes_to_a_service_version(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    await _import(client, headers, _files(fleet_dir))
    content = sample("cyclonedx/laravel-7.12.0.bom.1.4.json").read_bytes()
    put = await client.put(
        "/api/fleet/services/portal/versions/7.12.0/sbom", content=content, headers=headers
    )
    assert put.status_code == 422
    assert "unknown service 'portal'" in put.json()["detail"]
    put = await client.put(
        "/api/fleet/services/storage/versions/2026.12.0/sbom", content=content, headers=headers
    )
    assert put.status_code == 200, put.text
    match = (
        await client.get(
            "/api/fleet/components",
            params={
                "purl": "pkg:composer/symfony/http-kernel",
                "range": "vers:composer/>=5.4.0|<5.4.20",
            },
            headers=headers,
        )
    ).json()
    assert match["versions_in_range"] == ["v5.4.16"]
    assert [(s["service"], s["service_version"]) for s in match["services"]] == [
        ("storage", "2026.12.0")
    ]
    outside = (
        await client.get(
            "/api/fleet/components",
            params={"purl": "pkg:composer/symfony/http-kernel", "range": "vers:composer/>=6.0.0"},
            headers=headers,
        )
    ).json()
    assert outside["services"] == []
    got = await client.get("/api/fleet/services/storage/versions/2026.12.0/sbom", headers=headers)
    assert got.json()["bomFormat"] == "CycloneDX"
    assert got.headers["content-disposition"].startswith("attachment;")


async def test_export_then_import_gives_the_same_inventory(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.RELEASE_MANAGER)))
    await _import(client, headers, _files(fleet_dir))
    topology = (await client.get("/api/fleet/export/topology", headers=headers)).text
    tenants = (await client.get("/api/fleet/export/tenants.csv", headers=headers)).content
    resources = (await client.get("/api/fleet/export/resources.csv", headers=headers)).content
    assert resources.count(b"\n") == 3001
    # Import the export over the same inventory: nothing changes, nothing is duplicated.
    before = await _counts(db)
    again = await _import(
        client,
        headers,
        [
            ("topology", ("t.yaml", topology.encode())),
            ("tenants", ("t.csv", tenants)),
            ("resources", ("r.csv", resources)),
        ],
    )
    assert again.status_code == 201, again.text
    assert await _counts(db) == before
    assert (await client.get("/api/fleet/export/topology", headers=headers)).text == topology
    header = b"key,name,security_emails,webhook_url,language,time_zone\n"
    assert io.BytesIO(tenants).readline() == header


async def test_customers_see_their_own_tenant_only(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    staff = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    await _import(client, staff, _files(fleet_dir))
    customer = await make_user(Role.CUSTOMER, tenant_key="contoso")
    headers = bearer(await api_token(db, customer))
    own = await client.get("/api/fleet/tenants/contoso/resources", headers=headers)
    assert own.status_code == 200 and own.json()["total"] == 10
    assert all(item["unit"].count("/") == 2 for item in own.json()["items"])
    other = await client.get("/api/fleet/tenants/fabrikam/resources", headers=headers)
    assert other.status_code == 404
    assert (await client.get("/api/fleet/services", headers=headers)).status_code == 403
    page = await client.get("/fleet/my-tenant", headers=headers)
    assert page.status_code == 303 and page.headers["location"] == "/fleet/tenants/contoso"
    html = await client.get("/fleet/tenants/fabrikam", headers=headers)
    assert html.status_code == 404


async def test_values_too_long_for_their_columns_are_named_not_a_crash(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    tenants = (
        "key,name,security_emails,webhook_url\n"
        f"acme,{'A' * 201},,\n"
        f"beta,Beta,{';'.join(f'sec{n}@beta.example' for n in range(51))},\n"
        f"gamma,Gamma,{'s' * 320}@gamma.example,\n"
        f"delta,Delta,,https://delta.example/{'h' * 2000}\n"
    ).encode()
    response = await _import(client, headers, [("tenants", ("tenants.csv", tenants))])
    assert response.status_code == 422
    found = {(error["line"], error["msg"]) for error in response.json()["errors"]}
    assert (2, "name: longer than 200 characters") in found
    assert (3, "security_emails: more than 50 addresses") in found
    assert (4, "security_emails: an address longer than 320 characters") in found
    assert (5, "webhook_url: longer than 2000 characters") in found

    lines = (fleet_dir / "resources.csv").read_text().splitlines(keepends=True)
    tenant, service, region, unit, *_ = lines[1].split(",")
    lines.insert(2, f"{tenant},{service},{region},{unit},{'r' * 301},\n")
    lines.insert(3, f"{tenant},{service},{region},{unit},res-tags,{'t' * 201}\n")
    lines.insert(4, f"{tenant},{service},{region},{unit},res-many,{';'.join(['t'] * 51)}\n")
    resources = ("r.csv", "".join(lines).encode())
    response = await _import(client, headers, _files(fleet_dir, resources=resources))
    assert response.status_code == 422
    found = {(error["line"], error["msg"]) for error in response.json()["errors"]}
    assert (3, "resource_id: longer than 300 characters") in found
    assert (4, "tags: a tag longer than 200 characters") in found
    assert (5, "tags: more than 50 tags") in found
    assert all(count == 0 for count in (await _counts(db)).values())


async def test_a_csv_file_over_the_line_bound_stops_there(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    db: Database,
    fleet_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(staging, "MAX_CSV_LINES", 1000)
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    response = await _import(client, headers, _files(fleet_dir))  # 3,001 lines of resources
    assert response.status_code == 422
    assert "resources.csv: more than 1,000 lines" in response.json()["detail"]
    assert all(count == 0 for count in (await _counts(db)).values())


async def test_uploaded_documents_over_their_bounds_are_refused(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database, fleet_dir: Path
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.ENGINEER)))
    laughs = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    response = await _import(client, headers, [("topology", ("t.yaml", laughs))])
    assert response.status_code == 422
    assert "t.yaml: line 2: the alias *a is refused" in response.json()["detail"]

    deep = b"[" * 50_000 + b"]" * 50_000
    files = [*_files(fleet_dir), ("sbom", ("storage@9.9.cdx.json", deep))]
    response = await _import(client, headers, files)
    assert response.status_code == 422
    assert "storage@9.9.cdx.json: nested deeper than 64 levels" in response.json()["detail"]

    big = b"#" * (8 * 2**20 + 1)
    response = await _import(client, headers, [("topology", ("big.yaml", big))])
    assert response.status_code == 413
    assert "big.yaml is larger than 8 MB" in response.json()["detail"]
    assert all(count == 0 for count in (await _counts(db)).values())
