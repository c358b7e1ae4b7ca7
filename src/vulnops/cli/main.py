"""The ``vulnops`` command."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from vulnops import CONFIG_FILE_ENV, __version__
from vulnops.cli import (
    advisories,
    advisory_translations,
    audit,
    bench,
    bounty,
    config,
    db,
    disclosure,
    fixes,
    fleet,
    oncall,
    reports,
    review,
    rollouts,
    score,
    serve,
    sim,
    tenants,
    users,
    variants,
)

app = typer.Typer(
    help="vulnops: security response for cloud services.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit


@app.callback()
def main(
    config_file: Path | None = typer.Option(
        None, "--config", help=f"A TOML settings file (or {CONFIG_FILE_ENV}).", exists=True
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    if config_file is not None:
        os.environ[CONFIG_FILE_ENV] = str(config_file)


app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.add_typer(config.app, name="config")
app.add_typer(db.app, name="db")
app.add_typer(users.users, name="user")
app.add_typer(users.tokens, name="token")
app.add_typer(audit.app, name="audit")
app.add_typer(tenants.app, name="tenant")
app.add_typer(reports.reports_app, name="report")
reports.cases_app.command("export-cve")(disclosure.export_cve)
reports.cases_app.command("export-csaf")(disclosure.export_csaf)
reports.cases_app.command("reserve-cve")(disclosure.reserve_cve)
reports.cases_app.command("publish-cve")(disclosure.publish_cve)
reports.cases_app.command("record-cve")(disclosure.record_cve)
app.add_typer(reports.cases_app, name="case")
app.add_typer(score.app, name="score")
app.add_typer(fleet.app, name="fleet")
app.add_typer(oncall.app, name="oncall")
app.add_typer(oncall.pages_app, name="page")
app.add_typer(fixes.app, name="fix")
app.add_typer(rollouts.app, name="rollout")
advisory_translations.add_to(advisories.app)
app.add_typer(advisories.app, name="advisory")
app.add_typer(sim.app, name="sim")
app.add_typer(bench.app, name="bench")
app.add_typer(bounty.app, name="bounty")
app.add_typer(variants.hunt_app, name="hunt")
app.add_typer(variants.class_app, name="class")
app.add_typer(review.review_app, name="review")
app.command("metrics")(review.metrics)
