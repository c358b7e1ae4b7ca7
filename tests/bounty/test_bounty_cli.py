"""``vulnops bounty table check``, ``reconcile``, ``payouts`` and ``leaderboard``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from helpers import MakeUser, acli, cli
from vulnops.audit import service as audit
from vulnops.auth.roles import Role
from vulnops.bounty import ledger, payouts
from vulnops.bounty.tables import DEFAULT_TABLE_FILE
from vulnops.db.database import Database
from vulnops.intake.models import Report


def test_a_table_is_checked_before_it_is_used(tmp_path: Path) -> None:
    good = cli("bounty", "table", "check", str(DEFAULT_TABLE_FILE), env={})
    assert good.exit_code == 0, good.stderr
    assert "cloud v1, 36 amounts in USD, $1,250.00 to $90,000.00" in good.stdout
    gap = tmp_path / "gap.yaml"
    gap.write_text(
        DEFAULT_TABLE_FILE.read_text().replace("  - {impact: spoofing, severity: critical", "  # ")
    )
    refused = cli("bounty", "table", "check", str(gap), env={})
    assert refused.exit_code == 1
    assert "no row for impact spoofing, severity critical" in refused.stderr


async def test_reconcile_says_ok_or_lists_the_problems(
    db: Database, make_user: MakeUser, conninfo: str, tmp_path: Path
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    ada = (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await ledger.grant(
            s,
            key="award:1",
            researcher_id=ada,
            program="cloud",
            amount=100_00,
            currency="USD",
            actor="staff",
        )
        await s.commit()
    fine = await acli("bounty", "reconcile", env=env)
    assert fine.exit_code == 0, fine.stderr
    assert "1 transactions, 2 entries" in fine.stdout
    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO bounty_ledger_entries (transaction_key, line, kind, account,"
                " researcher_id, program, amount, currency, actor) VALUES ('half', 0, 'bonus',"
                " 'programme:cloud', :ada, 'cloud', -5, 'USD', 'mallory')"
            ),
            {"ada": ada},
        )
        await s.commit()
    broken = await acli("bounty", "reconcile", "--json", env=env)
    assert broken.exit_code == 1
    found = json.loads(broken.stdout)
    assert not found["ok"] and "transaction half does not sum to zero" in found["problems"]


async def test_finance_marks_a_payout_and_exports_the_csv(
    db: Database, make_user: MakeUser, conninfo: str, tmp_path: Path
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    ada = (await make_user(Role.RESEARCHER, email="ada@example.com")).id
    async with db.session() as s:
        await ledger.grant(
            s,
            key="award:1",
            researcher_id=ada,
            program="cloud",
            amount=1_250_00,
            currency="USD",
            actor="staff",
        )
        await payouts.set_payee(
            s,
            researcher_id=ada,
            payment_reference="payoneer:ada",
            country="FR",
            tax_form_received=True,
            actor="finance",
            now=datetime.now(UTC),
        )
        await payouts.ask(
            s, key="payout:1", researcher_id=ada, amount=1_250_00, currency="USD", actor="finance"
        )
        await s.commit()
    refused = await acli("bounty", "payouts", "mark", "payout:1", "--paid", env=env)
    assert refused.exit_code != 0 and "needs the payment system's reference" in refused.stderr
    marked = await acli(
        "bounty", "payouts", "mark", "payout:1", "--paid", "--reference", "W-9", env=env
    )
    assert marked.exit_code == 0, marked.stderr
    assert "recorded: payout payout:1 paid" in marked.stdout
    again = await acli(
        "bounty", "payouts", "mark", "payout:1", "--paid", "--reference", "W-9", env=env
    )
    assert "already recorded" in again.stdout
    exported = await acli("bounty", "payouts", "export", "--since", "2020-01-01", env=env)
    assert exported.exit_code == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0].startswith("payout,researcher_id,researcher_email,amount,currency")
    assert lines[1].startswith(f"payout:1,{ada},ada@example.com,1250.00,USD,payoneer:ada,FR,yes,")
    fields = lines[1].split(",")
    assert fields[9:11] == ["paid", "W-9"] and datetime.fromisoformat(fields[11])


async def test_the_leaderboard_scores_the_log_first(
    db: Database, make_user: MakeUser, conninfo: str, tmp_path: Path
) -> None:
    env = {"VULNOPS_DATABASE_URL": conninfo, "VULNOPS_DATA_DIR": str(tmp_path)}
    ada = await make_user(Role.RESEARCHER)
    async with db.session() as s:
        report = Report(
            source="researcher", title="t", description="d", reporter_id=ada.id, state="triaged"
        )
        s.add(report)
        await s.flush()
        await audit.record(
            s,
            subject=f"report:{report.id}",
            kind="report.state_changed",
            actor="triager",
            data={"from": "new", "to": "triaged"},
        )
        await s.commit()
    shown = await acli("bounty", "leaderboard", "--period", "all", "--json", env=env)
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout) == [
        {"rank": 1, "researcher_id": ada.id, "name": ada.email, "points": 7}
    ]
    refused = await acli("bounty", "leaderboard", "--period", "soon", env=env)
    assert refused.exit_code == 1 and "is not a year" in refused.stderr
