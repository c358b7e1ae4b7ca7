"""``vulnops metrics`` and ``vulnops review show|export``: the dashboard's table in the
terminal (and as JSON, the same figures as the API), and a review exported to a file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader

from helpers import acli
from review.conftest import T0, Script
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.review import metrics
from vulnops.review.schemas_metrics import MetricsFilter

STEPS = [
    (Milestone.ACKNOWLEDGED, 3),
    (Milestone.TRIAGED, 30),
    (Milestone.FIX_READY, 40),
    (Milestone.MITIGATED, 45),
]


async def test_metrics_and_a_review_from_the_command_line(
    db: Database, conninfo: str, tmp_path: Path, script: Script
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path / "data")}
    case = await script(STEPS)
    table = await acli("metrics", "--start", "2026-03", "--end", "2026-03", env=env)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split("\t") == ["measure", "from", "to", "cases", "median", "p90"]
    assert "Time to acknowledge\treported\tacknowledged\t1\t3.0 h\t3.0 h" in lines
    assert "Time to the whole fleet\treported\tmitigated\t1\t45.0 h\t45.0 h" in lines
    assert "triage\t0\t1\t0\t0%" in table.stdout  # 30 h against the 24 h deadline
    assert "1 case(s) first reported 2026-03 to 2026-03" in table.stderr

    as_json = await acli("metrics", "--start", "2026-03", "--end", "2026-03", "--json", env=env)
    async with db.session() as session:
        direct = await metrics.program(
            session,
            viewer=None,
            given=MetricsFilter(start="2026-03", end="2026-03"),
            now=T0 + timedelta(days=30),
        )
    found = json.loads(as_json.stdout)
    assert [m["overall"] for m in found["metrics"]] == [
        m.overall.model_dump() if m.overall else None for m in direct.metrics
    ]
    bad = await acli("metrics", "--start", "March", env=env)
    assert bad.exit_code == 2 and "YYYY-MM" in bad.stderr

    shown = await acli("review", "show", case.tracking_id, env=env)
    assert shown.exit_code == 0, shown.stderr
    assert f"{case.tracking_id} Token replay in the storage API: review draft" in shown.stdout
    out = tmp_path / "review.pdf"
    exported = await acli("review", "export", case.tracking_id, "-o", str(out), env=env)
    assert exported.exit_code == 0, exported.stderr
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert case.tracking_id in text and "Time to the whole fleet" in text
    markdown = tmp_path / "review.md"
    await acli("review", "export", case.tracking_id, "-o", str(markdown), env=env)
    assert "| Time to triage | reported | triaged | 30.0 h |" in markdown.read_text()
    wrong = await acli("review", "export", case.tracking_id, "-o", str(tmp_path / "r.doc"), env=env)
    assert wrong.exit_code == 2 and "md or pdf" in wrong.stderr
    missing = await acli("review", "show", "CASE-1999-000001", env=env)
    assert missing.exit_code != 0 and "CASE-1999-000001" in missing.stderr
