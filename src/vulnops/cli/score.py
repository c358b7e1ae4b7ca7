"""``vulnops score …``: the scorers on their own, for people who script around them."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from vulnops.cases.severity import score_cvss
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, SsvcInput, TechnicalImpact, decide
from vulnops.cli.common import console, err_console
from vulnops.errors import Invalid

app = typer.Typer(
    help="Score a vulnerability: CVSS vectors and SSVC decisions.", no_args_is_help=True
)


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


@app.command("cvss")
def cvss(
    vector: str = typer.Argument(..., help="A CVSS:3.1/… or CVSS:4.0/… vector."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Parse and score a CVSS 3.1 or 4.0 vector; a bad vector names the metric (exit 2)."""
    try:
        result = score_cvss(vector, field="vector")
    except Invalid as error:
        if as_json:
            console.print_json(json.dumps({"error": error.detail, **error.extra}))
        else:
            err_console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(2) from None
    values = {
        "version": result.version,
        "vector": result.vector,
        "base_score": result.base_score,
        "severity": result.severity,
    }
    if as_json:
        console.print_json(json.dumps(values))
    else:
        console.print(f"CVSS {result.version} base score {result.base_score} ({result.severity})")
        console.print(result.vector, highlight=False)


@app.command("ssvc")
def ssvc(
    exploitation: Exploitation = typer.Option(..., help="Evidence of exploitation."),
    automatable: YesNo = typer.Option(
        ..., help="Can an attacker automate steps 1-4 of the kill chain?"
    ),
    technical_impact: TechnicalImpact = typer.Option(..., help="Partial or total control."),
    mission_wellbeing: MissionWellbeing = typer.Option(..., help="Mission and well-being impact."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """CISA's SSVC decision: Track, Track*, Attend or Act."""
    point = SsvcInput(
        exploitation=exploitation,
        automatable=automatable is YesNo.YES,
        technical_impact=technical_impact,
        mission_wellbeing=mission_wellbeing,
    )
    decision = decide(point)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "exploitation": exploitation.value,
                    "automatable": automatable.value,
                    "technical_impact": technical_impact.value,
                    "mission_wellbeing": mission_wellbeing.value,
                    "decision": decision.value,
                }
            )
        )
    else:
        console.print(f"SSVC decision: [bold]{decision.value}[/bold]")
