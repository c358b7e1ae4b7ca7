"""``vulnops bounty …``: award tables and the payout ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vulnops.cli.common import JSON, console, err_console, group, print_json, run_in_session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vulnops.bounty.schemas import LedgerTransaction, Reconciliation

app = group("The bug bounty: award tables and the payout ledger.")
tables = group("Award tables.")
app.add_typer(tables, name="table")


@tables.command("check")
def check_table(path: Path = typer.Argument(..., help="The table's YAML file.")) -> None:
    """Load an award table and say what is wrong with it; exit 1 if anything is."""
    from vulnops.bounty.tables import TableError, load_table, money

    try:
        table = load_table(path)
    except (TableError, OSError) as error:
        err_console.print(f"[red]refused[/red]: {error}")
        raise typer.Exit(1) from None
    cells = len(table.amounts)
    console.print(
        f"[green]ok[/green]: {table.key} v{table.version}, {cells} amounts in {table.currency}, "
        f"{money(table.minimum, table.currency)} to {money(table.maximum, table.currency)}"
    )


@app.command("reconcile")
def reconcile(as_json: bool = JSON) -> None:
    """Check the whole ledger: every transaction balanced, no balance below zero, every payout
    answered once; exit 1 and list the problems otherwise."""

    async def work(session: AsyncSession) -> Reconciliation:
        from vulnops.bounty import reconcile as checks

        return await checks.reconcile(session)

    result = run_in_session(work)
    if as_json:
        print_json(result)
    elif result.ok:
        console.print(
            f"[green]ok[/green]: {result.transactions:,} transactions, {result.entries:,} entries,"
            " every currency sums to zero"
        )
    for problem in [] if as_json else result.problems:
        err_console.print(f"[red]problem[/red]: {problem}")
    if not result.ok:
        raise typer.Exit(1)


payouts_app = group("Payouts: the finance export and the payment system's answers.")
app.add_typer(payouts_app, name="payouts")


@payouts_app.command("export")
def export_payouts(
    since: datetime = typer.Option(
        ..., "--since", formats=["%Y-%m-%d"], help="Payouts asked for from this day (UTC)."
    ),
) -> None:
    """Print the payouts asked for since a day, with their answers, as CSV (for finance)."""

    async def work(session: AsyncSession) -> str:
        from vulnops.bounty import payouts

        return await payouts.export_csv(session, since=since.replace(tzinfo=UTC))

    typer.echo(run_in_session(work), nl=False)


@payouts_app.command("mark")
def mark_payout(
    key: str = typer.Argument(..., help="The payout's key."),
    paid: bool = typer.Option(..., "--paid/--failed", help="Paid, or failed (owed again)."),
    reference: str = typer.Option("", help="The payment system's reference (needed if paid)."),
    actor: str = typer.Option("finance", help="Who answers, for the ledger."),
) -> None:
    """Record the payment system's answer to a payout (the manual backend's way)."""

    async def work(session: AsyncSession) -> LedgerTransaction:
        from vulnops.bounty import payouts

        return await payouts.mark(
            session, payout_key=key, paid=paid, actor=actor, reference=reference
        )

    found = run_in_session(work)
    state = "already recorded" if found.replayed else "recorded"
    console.print(f"[green]{state}[/green]: payout {key} {found.kind}")


@app.command("leaderboard")
def leaderboard(
    period: str = typer.Option(
        "", "--period", help="A year (2026), a quarter (2026-Q4) or all; default: this quarter."
    ),
    limit: int = typer.Option(25, "--limit", min=1, max=100),
    as_json: bool = JSON,
) -> None:
    """The period's top researchers by reputation points (after scoring the log to its end)."""
    from vulnops.bounty import reputation

    async def work(session: AsyncSession) -> list[reputation.Leader]:
        chosen = reputation.check_period(period or reputation.quarter(datetime.now(UTC)))
        while (await reputation.score(session)).events:
            pass
        await session.commit()
        return await reputation.leaderboard(session, period=chosen, limit=limit, public=False)

    leaders = run_in_session(work)
    if as_json:
        print_json(leaders)
        return
    for leader in leaders:
        console.print(f"{leader.rank:>4}. {leader.name}  {leader.points:,} points")
    if not leaders:
        console.print("no points in this period yet")
