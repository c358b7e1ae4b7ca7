"""A case's CVE decision and record through the API and the command line, validated against
the CVE schema bundled with cvelib."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from disclosure.flows import mitigate
from helpers import FixMaker, MakeUser, acli, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.disclosure import cve_schema
from vulnops.settings import Settings
from vulnops.web.app import create_app

ORG = "7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a"
CVSS31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
CVSS40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"


@pytest.fixture
async def cna_client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    ours = settings.model_copy(update={"cna_org_id": ORG, "vendor_name": "Example Cloud"})
    transport = httpx.ASGITransport(app=create_app(ours, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_the_decision_and_a_valid_record_for_a_case_customers_must_act_on(
    cna_client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    fleet: object,
    make_fix: FixMaker,
    make_user: MakeUser,
) -> None:
    await make_fix("2026.12.1")
    headers = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    async with db.session() as session:
        await session.execute(
            text("UPDATE cases SET summary = 'INTERNAL: worker 7 keys are exposed' WHERE id = 1")
        )
        await session.commit()
    before = (await cna_client.get("/api/cases/1/disclosure", headers=headers)).json()
    assert (before["policy"], before["cve"], before["reason"], before["tags"]) == (
        "customer-action",
        False,
        "no customer action is required (customer-action)",
        [],
    )
    bad_cwe = await cna_client.put(
        "/api/cases/1/severity",
        json={"cwe_id": "CWE-abc", "reason": "assessed"},
        headers=headers,
    )
    assert bad_cwe.status_code == 422 and "CWE" in bad_cwe.text
    assessed = await cna_client.put(
        "/api/cases/1/severity",
        json={
            "cvss31_vector": CVSS31,
            "cvss40_vector": CVSS40,
            "cwe_id": "CWE-918",
            "customer_action_required": True,
            "reason": "assessed",
        },
        headers=headers,
    )
    assert assessed.status_code == 200, assessed.text
    after = (await cna_client.get("/api/cases/1/disclosure", headers=headers)).json()
    assert after["cve"] and after["reason"] == "customers must act"
    assert after["tags"] == ["exclusively-hosted-service"]

    url = "/api/cases/1/cve-record"
    unwritten = await cna_client.get(url, params={"cve_id": "CVE-2026-12345"}, headers=headers)
    assert unwritten.status_code == 409 and "no approved public text" in unwritten.text
    text_body = {
        "title": "SSRF in the image importer",
        "description": "An SSRF in the image importer.",
    }
    drafted = await cna_client.put("/api/cases/1/public-text", json=text_body, headers=headers)
    assert drafted.status_code == 200 and drafted.json()["status"] == "draft"
    still = await cna_client.get(url, params={"cve_id": "CVE-2026-12345"}, headers=headers)
    assert still.status_code == 409
    approved = await cna_client.post("/api/cases/1/public-text/approve", headers=comms)
    assert approved.json()["status"] == "approved", approved.text
    # Found: a schema-valid PUBLISHED record was built for a case in state new.
    unfixed = await cna_client.get(url, params={"cve_id": "CVE-2026-12345"}, headers=headers)
    assert unfixed.status_code == 409 and "not mitigated yet" in unfixed.text
    assert unfixed.json()["missing"] == [
        "the case is not mitigated yet (the fix has not reached every unit)"
    ]
    await mitigate(db, settings, 1)

    shown = await cna_client.get(
        "/api/cases/1/cve-record", params={"cve_id": "CVE-2026-12345"}, headers=headers
    )
    body = shown.json()
    assert body["valid"] and body["problems"] == []
    document = body["record"]
    assert document["dataType"] == "CVE_RECORD" and document["dataVersion"] == "5.1"
    assert document["cveMetadata"]["cveId"] == "CVE-2026-12345"
    # Not published yet: CVE Services dates the publication itself.
    assert "datePublished" not in document["cveMetadata"]
    cna = document["containers"]["cna"]
    assert cna["descriptions"] == [{"lang": "en", "value": "An SSRF in the image importer."}]
    # Found: with a blast radius by service, nothing was stated as affected.
    assert cna["affected"] == [
        {
            "vendor": "Example Cloud",
            "product": cna["affected"][0]["product"],
            "versions": [
                {
                    "version": "0",
                    "lessThan": "2026.12.1",
                    "versionType": "custom",
                    "status": "affected",
                }
            ],
            "defaultStatus": "unaffected",
        }
    ]
    assert cna["problemTypes"][0]["descriptions"][0] == {
        "lang": "en",
        "type": "CWE",
        "cweId": "CWE-918",
        "description": "CWE-918: Server-Side Request Forgery (SSRF)",
    }
    assert [metric["scenarios"] for metric in cna["metrics"]] == [
        [{"lang": "en", "value": "GENERAL"}]
    ] * 2
    metrics = {key: value for metric in cna["metrics"] for key, value in metric.items()}
    assert metrics["cvssV3_1"] == {
        "version": "3.1",
        "vectorString": CVSS31,
        "baseScore": 7.5,
        "baseSeverity": "HIGH",
    }
    assert metrics["cvssV4_0"]["version"] == "4.0" and metrics["cvssV4_0"]["baseScore"] > 0
    assert cna["tags"] == ["exclusively-hosted-service"]
    tracking = (await cna_client.get("/api/cases/1", headers=headers)).json()["tracking_id"]
    assert cna["references"][0]["url"].endswith(f"/security/advisories/{tracking}")
    assert cna["references"][0]["name"] == f"Example Cloud security advisory {tracking}"
    assert cna["references"][0]["tags"] == ["vendor-advisory"]
    assert cve_schema.problems(document) == []
    assert "INTERNAL" not in shown.text and cna["title"] == "SSRF in the image importer"

    malformed = await cna_client.get(
        "/api/cases/1/cve-record", params={"cve_id": "CVE-26-1"}, headers=headers
    )
    assert malformed.status_code == 422


async def test_an_invalid_record_lists_every_failing_field(
    db: Database,
    settings: Settings,
    conninfo: str,
    tmp_path: Path,
    fleet: object,
    make_fix: FixMaker,
) -> None:
    await make_fix("2026.12.1")
    async with db.session() as session:
        case = str(await session.scalar(text("SELECT tracking_id FROM cases WHERE id = 1")))
    env = {
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_DATA_DIR": str(tmp_path),
        "VULNOPS_CNA_ORG_ID": ORG,
    }
    # Found: --cve-id built a PUBLISHED record for a "no CVE" case in state new.
    refused = await acli("case", "export-cve", case, "--cve-id", "CVE-2026-9999", env=env)
    assert refused.exit_code == 1
    for missing in (
        "the CVE decision says no CVE (no customer action is required",
        "the case is not mitigated yet",
        "no approved public text",
    ):
        assert missing in refused.stderr
    async with db.session() as session:
        await session.execute(text("UPDATE cases SET customer_action_required = true"))
        await session.commit()
    await mitigate(db, settings, 1)
    unwritten = await acli("case", "export-cve", case, "--cve-id", "CVE-2026-9999", env=env)
    assert unwritten.exit_code == 1 and "no approved public text" in unwritten.stderr
    assert "not mitigated" not in unwritten.stderr
    async with db.session() as session:
        # An approved text whose description is empty (the forms refuse one; the record's
        # validator must name it too).
        await session.execute(
            text(
                "INSERT INTO public_texts (case_id, number, title, description, status, "
                "created_by, approved_by) VALUES (1, 1, 'A title', '', 'approved', 'a', 'b')"
            )
        )
        await session.commit()
    exported = await acli("case", "export-cve", case, "--cve-id", "CVE-2026-9999", env=env)
    assert exported.exit_code == 1
    assert "containers/cna/descriptions" in exported.stderr
    assert '"cveId": "CVE-2026-9999"' in exported.stdout
    no_org = await acli(
        "case",
        "export-cve",
        case,
        "--cve-id",
        "CVE-2026-9999",
        env={k: v for k, v in env.items() if k != "VULNOPS_CNA_ORG_ID"},
    )
    assert no_org.exit_code == 1 and "VULNOPS_CNA_ORG_ID" in no_org.stderr
    async with db.session() as session:
        await session.execute(text("UPDATE public_texts SET description = 'What happened.'"))
        await session.commit()
    fixed = await acli("case", "export-cve", case, "--cve-id", "CVE-2026-9999", env=env)
    assert fixed.exit_code == 0, fixed.stderr
    undisclosed = await acli("case", "export-csaf", case, env=env)
    assert undisclosed.exit_code == 1 and "not disclosed" in undisclosed.stderr
    async with db.session() as session:
        await session.execute(
            text(
                "INSERT INTO disclosures (case_id, disclosed_at, public_from) "
                "VALUES (1, now(), now())"
            )
        )
        await session.commit()
    vex = await acli("case", "export-csaf", case, "--vex", env=env)
    assert vex.exit_code == 0 and '"category": "csaf_vex"' in vex.stdout, vex.stderr


def test_problems_name_each_field() -> None:
    found = cve_schema.problems(
        {
            "dataType": "CVE_RECORD",
            "dataVersion": "5.1",
            "cveMetadata": {"cveId": "CVE-2026-1234", "assignerOrgId": ORG, "state": "PUBLISHED"},
            "containers": {
                "cna": {
                    "providerMetadata": {"orgId": "not-a-uuid"},
                    "descriptions": [],
                    "affected": [{"vendor": "x"}],
                    "references": [{"url": "https://x.example/"}],
                }
            },
        }
    )
    assert any(p.startswith("containers/cna/providerMetadata/orgId:") for p in found)
    assert any(p.startswith("containers/cna/descriptions:") for p in found)
    assert any(p.startswith("containers/cna/affected/0:") for p in found)
