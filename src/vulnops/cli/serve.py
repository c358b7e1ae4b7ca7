"""``vulnops serve`` and ``vulnops worker``."""

from __future__ import annotations

import importlib
import os
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

import typer

from vulnops.cli.common import console
from vulnops.cli.common import settings as cli_settings

if TYPE_CHECKING:
    from vulnops.demo import DemoContext
    from vulnops.settings import Settings


def _demo_environment(environ: MutableMapping[str, str]) -> None:
    """What ``--demo`` turns on in ``environ`` unless it is set already: the inbox (a mail
    catcher and a webhook receiver inside the server), email sent to that catcher, webhooks
    allowed to reach this machine (the receiver is on 127.0.0.1), and no second factor
    required, so the demo's printed passwords are enough to walk through it; and a CNA
    organisation (a made-up UUID), so the demo's CVE case exports its record."""
    from vulnops.disclosure.demo import CNA_ORG_ID, CNA_SHORT_NAME

    environ.setdefault("VULNOPS_DEMO_INBOX", "true")
    environ.setdefault("VULNOPS_CNA_ORG_ID", CNA_ORG_ID)
    environ.setdefault("VULNOPS_CNA_SHORT_NAME", CNA_SHORT_NAME)
    if "VULNOPS_SMTP_HOST" not in environ:
        environ["VULNOPS_SMTP_HOST"] = "127.0.0.1"
        environ["VULNOPS_SMTP_PORT"] = environ.get("VULNOPS_DEMO_SMTP_PORT", "2525")
    environ.setdefault("VULNOPS_NOTIFY_WEBHOOK_ALLOW_PRIVATE", "true")
    environ.setdefault("VULNOPS_SECOND_FACTOR_ROLES", "[]")


def _seed_demo(settings: Settings, conninfo: str, *, port: int) -> None:
    import asyncio

    from vulnops import demo, wiring
    from vulnops.db.database import Database
    from vulnops.inbox import service as inbox

    wiring.wire()

    async def main() -> tuple[DemoContext, int]:
        database = Database(conninfo, pool_size=2)
        try:
            context = await demo.seed(database)
            async with database.session() as session:
                pointed = await inbox.point_demo_webhooks(
                    session, base_url=f"http://127.0.0.1:{port}"
                )
                await session.commit()
            return context, pointed
        finally:
            await database.dispose()

    context, pointed = asyncio.run(main())
    if pointed:
        console.print(f"{pointed} demo webhooks point at this server's inbox (/inbox).")
    path = settings.data_dir / "demo-credentials.txt"
    if context.credentials:
        demo.write_credentials(path, context.credentials)
        console.print(f"[bold]Demo logins[/bold] (also kept in {path}):")
        for role, email, password in context.credentials:
            console.print(f"  {role:<16} {email:<32} {password}")
    elif path.exists():
        console.print(f"Demo data already seeded; the demo logins are in {path}")


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default: VULNOPS_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: VULNOPS_PORT)."),
    demo_data: bool = typer.Option(False, "--demo", help="Seed demo data once."),
    worker: bool | None = typer.Option(
        None, help="Also run a job worker in each web process (default: yes)."
    ),
    workers: int | None = typer.Option(
        None, min=1, help="Web processes (default: VULNOPS_WEB_WORKERS, one per CPU)."
    ),
) -> None:
    """Run the web server: start the database if embedded, migrate, serve."""
    import uvicorn

    from vulnops import logs
    from vulnops.db import migrate
    from vulnops.db.database import resolve_conninfo
    from vulnops.settings import get_settings
    from vulnops.web.app import UVICORN_PROXY_HEADERS

    if worker is not None:
        os.environ["VULNOPS_SERVE_RUNS_WORKER"] = "true" if worker else "false"
    if demo_data:
        _demo_environment(os.environ)
    get_settings.cache_clear()
    settings = cli_settings()
    logs.configure(settings.log_level)
    conninfo = resolve_conninfo(settings)
    migrate.upgrade(conninfo)
    host, port = host or settings.host, port or settings.port
    if demo_data:
        _seed_demo(settings, conninfo, port=port)
    processes = workers or settings.web_workers
    _fit_pools(settings, conninfo, processes=processes)
    settings.session_secret()  # made here once, before the web processes start and read it
    console.print(
        f"vulnops listening on [bold]http://{host}:{port}[/bold] ({processes} web processes)"
    )
    uvicorn.run(
        "vulnops.web.app:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=processes,
        log_level=settings.log_level.lower(),
        proxy_headers=UVICORN_PROXY_HEADERS,
    )


def pool_size_within(
    *, connections: int, processes: int, pool_size: int, worker_connections: int
) -> int:
    """The largest pool per web process, at most ``pool_size``, with which ``processes`` web
    processes stay within ``connections``: each opens its pool twice over in a burst, and its
    job worker's connections besides. At least 1."""
    room = connections // processes - worker_connections
    return max(1, min(pool_size, room // 2))


def _fit_pools(settings: Settings, conninfo: str, *, processes: int) -> None:
    """Lower each web process's pool (through the environment its processes read) so that all
    of them use at most three quarters of the database's connections — the rest is for
    ``vulnops worker``, the command line and other clients. A pool size that was set is kept;
    if it does not fit, that is said."""
    import psycopg

    from vulnops import jobs
    from vulnops.settings import get_settings

    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
        ).fetchone()
    allowed = int(row[0]) if row else 0
    worker = (
        jobs.worker_connections(settings.serve_worker_concurrency)
        if settings.serve_runs_worker
        else 0
    )
    size = pool_size_within(
        connections=allowed * 3 // 4,
        processes=processes,
        pool_size=settings.db_pool_size,
        worker_connections=worker,
    )
    if size >= settings.db_pool_size:
        return
    if "db_pool_size" in settings.model_fields_set:
        console.print(
            f"[yellow]{processes} web processes with VULNOPS_DB_POOL_SIZE={settings.db_pool_size} "
            f"may open more connections than the database's {allowed}[/yellow]"
        )
        return
    os.environ["VULNOPS_DB_POOL_SIZE"] = str(size)
    get_settings.cache_clear()  # a single web process runs here, and reads the settings again
    console.print(
        f"{processes} web processes: {size} database connections each "
        f"(the database allows {allowed})"
    )


def worker(
    concurrency: int | None = typer.Option(
        None, help="Jobs at once (default: VULNOPS_WORKER_CONCURRENCY)."
    ),
    queue: list[str] | None = typer.Option(None, help="Only these queues (repeatable)."),
    name: str | None = typer.Option(None, help="Worker name in logs and the database."),
    import_module: list[str] | None = typer.Option(
        None, "--import", help="Also load tasks from this module (repeatable)."
    ),
) -> None:
    """Run a job worker until SIGINT/SIGTERM. Run as many as you like, on any machine."""
    import asyncio

    from vulnops import jobs, logs, wiring
    from vulnops.db.database import Database, resolve_conninfo

    wiring.wire()
    settings = cli_settings()
    logs.configure(settings.log_level)
    for module in import_module or []:
        importlib.import_module(module)
    conninfo = resolve_conninfo(settings)

    async def main() -> None:
        database = Database(conninfo, pool_size=settings.worker_concurrency + 1)
        try:
            await jobs.run_worker(
                settings=settings,
                database=database,
                name=name,
                concurrency=concurrency,
                queues=queue or None,
                install_signal_handlers=True,
            )
        finally:
            await database.dispose()

    asyncio.run(main())
