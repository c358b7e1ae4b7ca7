"""``vulnops config …``."""

from __future__ import annotations

from vulnops.cli.common import JSON, group, print_json, print_table, settings

app = group("Configuration.")


@app.command("show")
def show(as_json: bool = JSON) -> None:
    """Print the effective settings, secrets masked."""
    from vulnops.settings import Settings

    values = settings().masked()
    if as_json:
        print_json(values)
        return
    print_table(
        ("setting", "environment variable", "value", "meaning"),
        [
            (
                name,
                f"VULNOPS_{name.upper()}",
                str(value),
                Settings.model_fields[name].description or "",
            )
            for name, value in values.items()
        ],
    )
