"""A review exported: the Markdown and the PDF (opened with pypdf, its text extracted) carry
every section of the page and its figures; the pages render the review and the dashboard,
whose every plot's CSV holds the figures the plot draws."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from pypdf import PdfReader

from helpers import MakeUser, api_token, bearer
from review.conftest import (
    T0,
    Script,
    TinyFleet,
    advisory_with_feedback,
    conversation_at,
    deploy,
)
from vulnops.auth.roles import Role
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.fleet import blast

HEADINGS = [
    "Impact",
    "Timeline",
    "Events",
    "Durations",
    "Deadlines",
    "Exposure",
    "Customer feedback",
    "Their questions",
    "Responders' feedback",
    "Root cause",
    "Variants",
    "Bounty",
    "What went well",
    "What went wrong",
    "Where we got lucky",
    "Action items",
]


async def _reviewed(
    client: httpx.AsyncClient,
    db: Database,
    script: Script,
    tiny_fleet: TinyFleet,
    headers: dict[str, str],
    owner_id: int,
) -> int:
    case = await script(
        [(Milestone.ACKNOWLEDGED, 1), (Milestone.TRIAGED, 5), (Milestone.MITIGATED, 30)],
        services=("api",),
        owner_id=owner_id,
    )
    async with db.session() as session:
        await blast.compute(
            session, case_id=case.id, criteria=blast.BlastCriteria(services=["api"]), actor="t"
        )
        await session.commit()
    u = tiny_fleet.units
    await deploy(
        db,
        case_id=case.id,
        unit_times={
            k: T0 + timedelta(hours=h) for k, h in ((u["u1"], 20), (u["u2"], 24), (u["u3"], 28))
        },
    )
    await advisory_with_feedback(
        db,
        case_id=case.id,
        tenants=tiny_fleet.tenants,
        sent_at=T0 + timedelta(hours=26),
        answers=[("Globex", 3, "Tell us sooner | next time.", timedelta(hours=1))],
    )
    await conversation_at(
        db,
        case_id=case.id,
        tenant_id=tiny_fleet.tenants["Globex"],
        author_id=owner_id,
        messages=[
            (False, "Is **u3** replayable still?", T0 + timedelta(hours=27)),
            (True, "No: the fix reached it.", T0 + timedelta(hours=29)),
        ],
    )
    await client.put(
        f"/api/cases/{case.id}/root-cause",
        json={"cwe_id": 294, "cause": "Tokens had no nonce."},
        headers=headers,
    )
    written = await client.put(
        f"/api/cases/{case.id}/review/sections",
        json={
            "impact": "Replay in Zürich — **3 tenants**, naïve café clients.",
            "went_well": "The canary stage held.",
            "went_wrong": "Nobody owned the token service.",
            "lucky": "It was found by a researcher.",
        },
        headers=headers,
    )
    assert written.status_code == 200, written.text
    added = await client.post(
        f"/api/cases/{case.id}/review/action-items",
        json={
            "title": "Add nonces to every token",
            "owner_id": owner_id,
            "due": "2026-05-01",
            "tracker": "SEC-7",
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    return case.id


async def test_the_pdf_and_markdown_carry_every_section(
    client: httpx.AsyncClient,
    db: Database,
    make_user: MakeUser,
    script: Script,
    tiny_fleet: TinyFleet,
) -> None:
    owner = await make_user(Role.RESPONDER)
    headers = bearer(await api_token(db, owner))
    case_id = await _reviewed(client, db, script, tiny_fleet, headers, owner.id)
    review = (await client.get(f"/api/cases/{case_id}/review", headers=headers)).json()
    # 3 tenants, exposed since the advisory says (T0 + 14 h): Acme until u2 (24 h), Globex
    # until u3 (28 h), Initech until u1 (20 h): 10 + 14 + 6.
    assert review["record"]["exposure"]["since_from"] == "advisory"
    assert review["record"]["exposure"]["tenant_hours"] == 30.0

    pdf = await client.get(f"/cases/{case_id}/review.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    text = " ".join(text.split())
    markdown = (
        await client.get(f"/api/cases/{case_id}/review/export?format=md", headers=headers)
    ).text
    for heading in HEADINGS:
        assert heading in text, heading
        assert f"## {heading}" in markdown or f"### {heading}" in markdown, heading
    for value in (
        review["tracking_id"],
        "Replay in Zürich",
        "naïve café",
        "3 tenants",
        "The canary stage held.",
        "Nobody owned the token service.",
        "It was found by a researcher.",
        "30.0 tenant-hours",
        "Globex",
        "Tell us sooner",
        "1 questions from 1 tenants",
        "1 answered in a median of 2.0 h",
        "replayable still?",
        "Tokens had no nonce.",
        "CWE-294",
        "Add nonces to every token",
        "SEC-7",
        "2026-05-01",
        "Time to the whole fleet",
        "30.0 h",
        owner.email,
    ):
        assert value in text, value
        assert value in markdown, value
    assert "Tell us sooner \\| next time." in markdown  # a pipe inside a table cell is escaped
    assert "| Time to acknowledge | reported | acknowledged | 1.0 h |" in markdown


async def test_the_pages_and_every_plot_csv(
    client: httpx.AsyncClient,
    db: Database,
    make_user: MakeUser,
    script: Script,
    tiny_fleet: TinyFleet,
) -> None:
    owner = await make_user(Role.RESPONDER)
    headers = bearer(await api_token(db, owner))
    case_id = await _reviewed(client, db, script, tiny_fleet, headers, owner.id)
    page = await client.get(f"/cases/{case_id}/review", headers=headers)
    assert page.status_code == 200
    for testid in (
        "review-timeline",
        "exposure",
        "customer-feedback",
        "responders",
        "action-items",
    ):
        assert f'data-testid="{testid}"' in page.text
    assert "30.0 tenant-hours" in page.text
    assert "**3 tenants**" in page.text  # a draft: its sections in the form, as written
    assert (
        await client.post(f"/api/cases/{case_id}/review/submit", headers=headers)
    ).status_code == 200
    page = await client.get(f"/cases/{case_id}/review", headers=headers)
    assert "<strong>3 tenants</strong>" in page.text  # in review: the Markdown rendered
    assert 'data-testid="decide"' in page.text

    dashboard = await client.get("/metrics?start=2026-01&end=2026-06", headers=headers)
    assert dashboard.status_code == 200
    assert dashboard.text.count("<svg") == 7
    assert 'data-testid="cases-count">1<' in dashboard.text
    for plot, header in (
        ("response", "month"),
        ("remediation", "month"),
        ("distribution", "rating"),
        ("sla", "deadline"),
        ("exposure", "month"),
        ("satisfaction", "month"),
        ("cases", "month"),
    ):
        answer = await client.get(
            f"/metrics/plots/{plot}.csv?start=2026-01&end=2026-06", headers=headers
        )
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(answer.text)))
        assert rows[0][0] == header, plot
        if header == "month":
            assert [r[0] for r in rows[1:]] == [f"2026-0{m}" for m in range(1, 7)], plot
    cases_rows = list(
        csv.reader(
            io.StringIO(
                (
                    await client.get(
                        "/metrics/plots/cases.csv?start=2026-01&end=2026-06", headers=headers
                    )
                ).text
            )
        )
    )
    assert {r[0]: r[1] for r in cases_rows[1:]}["2026-03"] == "1"
    response = list(
        csv.reader(
            io.StringIO(
                (
                    await client.get(
                        "/metrics/plots/response.csv?start=2026-03&end=2026-03", headers=headers
                    )
                ).text
            )
        )
    )
    assert response[1] == ["2026-03", "1.0000", "5.0000"]
    satisfaction = list(
        csv.reader(
            io.StringIO(
                (
                    await client.get(
                        "/metrics/plots/satisfaction.csv?start=2026-01&end=2026-06", headers=headers
                    )
                ).text
            )
        )
    )
    month_of_answer = f"{datetime.now(UTC):%Y-%m}"
    assert all(r[2] == "0" for r in satisfaction[1:] if r[0] != month_of_answer)
    table = list(
        csv.reader(
            io.StringIO(
                (
                    await client.get(
                        "/metrics/table.csv?start=2026-03&end=2026-03", headers=headers
                    )
                ).text
            )
        )
    )
    assert table[0][:4] == ["measure", "from", "to", "group"]
    assert ["whole_fleet", "reported", "mitigated", "all", "", "1", "30.0000", "30.0000"] in table

    for query, says in (
        ("start=2026-13", "YYYY-MM"),
        ("start=2026-06&end=2026-01", "after it ends"),
        ("start=2010-01&end=2026-01", "at most 120 months"),
        ("rating=severe", "rating"),
        ("source=rumour", "source"),
    ):
        for path in ("/api/metrics", "/metrics", "/metrics/table.csv"):
            answer = await client.get(f"{path}?{query}", headers=headers)
            assert answer.status_code == 422, (path, query)
            assert says in answer.text, (path, query, answer.text[:300])
    unknown = await client.get("/metrics/plots/everything.csv", headers=headers)
    assert unknown.status_code == 422
