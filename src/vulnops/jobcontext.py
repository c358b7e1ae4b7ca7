"""What a running job gets from its worker: the database and the settings."""

from __future__ import annotations

import procrastinate

from vulnops.db.database import Database
from vulnops.settings import Settings


def job_database(context: procrastinate.JobContext) -> Database:
    database: Database = context.additional_context["db"]
    return database


def job_settings(context: procrastinate.JobContext) -> Settings:
    settings: Settings = context.additional_context["settings"]
    return settings
