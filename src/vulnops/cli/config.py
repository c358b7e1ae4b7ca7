from __future__ import annotations

import json

import typer
from rich.table import Table

from vulnops.cli.common import console
from vulnops.settings import Settings, get_settings

app = typer.Typer(help="Configuration.", no_args_is_help=True)


@app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the effective settings, secrets masked."""
    values = get_settings().masked()
    if as_json:
        console.print_json(json.dumps(values))
        return
    table = Table("setting", "environment variable", "value", "meaning")
    for name, value in values.items():
        field = Settings.model_fields[name]
        table.add_row(name, f"VULNOPS_{name.upper()}", str(value), field.description or "")
    console.print(table)
