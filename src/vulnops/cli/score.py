"""``vulnops score …``: the scorers on their own, for people who script around them."""

from __future__ import annotations

from enum import StrEnum

import typer

from vulnops.cases.severity import score_cvss
from vulnops.cases.ssvc import Exploitation, MissionWellbeing, SsvcInput, TechnicalImpact, decide
from vulnops.cli.common import JSON, console, fail, group, print_json
from vulnops.errors import Invalid

app = group("Score a vulnerability: CVSS vectors and SSVC decisions.")


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


@app.command("cvss")
def cvss(
    vector: str = typer.Argument(..., help="A CVSS:3.1/… or CVSS:4.0/… vector."),
    as_json: bool = JSON,
) -> None:
    """Parse and score a CVSS 3.1 or 4.0 vector; a bad vector names the metric (exit 2)."""
    try:
        result = score_cvss(vector, field="vector")
    except Invalid as error:
        if as_json:
            print_json({"error": error.detail, **error.extra})
            raise typer.Exit(2) from None
        raise fail(error.detail, 2) from None
    values = {
        "version": result.version,
        "vector": result.vector,
        "base_score": result.base_score,
        "severity": result.severity,
    }
    if as_json:
        print_json(values)
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
    as_json: bool = JSON,
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
        print_json(
            {
                "exploitation": exploitation.value,
                "automatable": automatable.value,
                "technical_impact": technical_impact.value,
                "mission_wellbeing": mission_wellbeing.value,
                "decision": decision.value,
            }
        )
    else:
        console.print(f"SSVC decision: [bold]{decision.value}[/bold]")
