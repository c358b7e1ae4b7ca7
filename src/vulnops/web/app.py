"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import partial
from importlib import resources

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from vulnops import __version__, jobs, logs, wiring
from vulnops.approvals import api as approvals_api
from vulnops.approvals import pages as approvals_pages
from vulnops.auth import admin_pages, passkey_pages, second_factor, sso
from vulnops.auth import api as auth_api
from vulnops.auth import pages as auth_pages
from vulnops.bounty import api as bounty_api
from vulnops.bounty import finance_api as bounty_finance_api
from vulnops.bounty import forms as bounty_forms
from vulnops.bounty import recognition_api as bounty_recognition_api
from vulnops.bounty import researcher_pages as bounty_researcher_pages
from vulnops.bounty import staff_pages as bounty_staff_pages
from vulnops.casefile import pages as casefile_pages
from vulnops.casefile import tabs as casefile_tabs
from vulnops.cases import api as cases_api
from vulnops.cases import pages as cases_pages
from vulnops.db import embedded
from vulnops.db.database import Database, embedded_pgdata, resolve_conninfo
from vulnops.disclosure import api as disclosure_api
from vulnops.disclosure import csaf_pages, public_pages
from vulnops.disclosure import pages as disclosure_pages
from vulnops.fleet import api as fleet_api
from vulnops.fleet import pages as fleet_pages
from vulnops.fleet import repositories_api as fleet_repositories
from vulnops.inbox import pages as inbox_pages
from vulnops.inbox import smtp as inbox_smtp
from vulnops.intake import api as intake_api
from vulnops.intake import pages as intake_pages
from vulnops.notify import api as notify_api
from vulnops.notify import (
    conversation_api,
    conversation_pages,
    portal_pages,
    resource_routes,
    translation_routes,
)
from vulnops.notify import pages as notify_pages
from vulnops.oncall import alerts_api
from vulnops.oncall import api as oncall_api
from vulnops.oncall import contact_routes as oncall_contacts
from vulnops.oncall import pages as oncall_pages
from vulnops.oncall import schedule_pages as oncall_schedule_pages
from vulnops.remediation import api as remediation_api
from vulnops.remediation import pages as remediation_pages
from vulnops.review import api as review_api
from vulnops.review import pages as review_pages
from vulnops.rollout import api as rollout_api
from vulnops.rollout import pages as rollout_pages
from vulnops.rollout import stage_routes as rollout_stages
from vulnops.settings import Settings, get_settings
from vulnops.ui.templating import STATIC_DIR
from vulnops.variants import api as variants_api
from vulnops.variants import pages as variants_pages
from vulnops.web import audit_api, audit_pages, errors, health, openapi, pages
from vulnops.web.csrf import CSRFMiddleware
from vulnops.web.input_bounds import check_bounds
from vulnops.web.nav import nav_for
from vulnops.web.need_to_know import need_to_know
from vulnops.web.routes import check_rules
from vulnops.web.security import SecurityHeadersMiddleware
from vulnops.workqueue import api as workqueue_api
from vulnops.workqueue import pages as workqueue_pages

log = logging.getLogger(__name__)
# How uvicorn must serve the app: its own X-Forwarded-* handling trusts 127.0.0.1 by default
# (a local client could name any address); the app trusts VULNOPS_TRUSTED_PROXIES instead.
UVICORN_PROXY_HEADERS = False

ROUTERS = (
    health.router,
    workqueue_pages.router,
    workqueue_api.router,
    pages.router,
    auth_api.router,
    auth_pages.router,
    admin_pages.router,
    second_factor.router,
    passkey_pages.router,
    sso.router,
    audit_api.router,
    audit_pages.router,
    approvals_api.router,
    approvals_pages.router,
    bounty_staff_pages.router,
    bounty_researcher_pages.router,
    bounty_forms.router,
    intake_api.router,
    intake_pages.router,
    cases_api.router,
    cases_pages.router,
    casefile_pages.router,
    casefile_tabs.router,
    fleet_api.router,
    fleet_pages.router,
    fleet_repositories.api,
    fleet_repositories.pages,
    remediation_api.router,
    remediation_pages.router,
    rollout_api.router,
    rollout_pages.router,
    rollout_stages.api,
    rollout_stages.pages,
    notify_api.router,
    notify_pages.router,
    portal_pages.router,
    conversation_api.router,
    conversation_pages.router,
    resource_routes.api,
    resource_routes.pages,
    translation_routes.api,
    translation_routes.pages,
    disclosure_api.router,
    disclosure_pages.router,
    public_pages.router,
    csaf_pages.router,
    inbox_pages.router,
    oncall_api.router,
    oncall_contacts.api,
    oncall_contacts.pages,
    oncall_pages.router,
    oncall_schedule_pages.router,
    alerts_api.router,
    bounty_api.router,
    bounty_finance_api.router,
    bounty_recognition_api.router,
    variants_api.router,
    variants_pages.router,
    review_api.router,
    review_pages.router,
)


async def _start_catcher(settings: Settings, database: Database) -> asyncio.Server | None:
    """The demo's mail catcher, when the demo inbox is on. With several web processes only the
    first binds the port; the others say so and go on (one catcher is enough)."""
    if not settings.demo_inbox:
        return None
    try:
        return await inbox_smtp.start(database, host="127.0.0.1", port=settings.demo_smtp_port)
    except OSError as error:
        log.warning("the demo mail catcher is not started here: %s", error)
        return None


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    run_worker: bool = False,
) -> FastAPI:
    """The vulnops web application.

    ``database`` None connects to the configured (or embedded) PostgreSQL on start-up.
    ``run_worker`` also runs a job worker inside the web process (what ``vulnops serve`` does),
    running ``serve_worker_concurrency`` jobs at once.
    """
    settings = settings or get_settings()
    wiring.wire()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if database is None:
            app.state.db = Database(
                await asyncio.to_thread(resolve_conninfo, settings),
                pool_size=settings.db_pool_size,
            )
        db: Database = app.state.db
        catcher = await _start_catcher(settings, db)
        worker: asyncio.Task[None] | None = None
        if run_worker:
            worker = asyncio.create_task(
                jobs.run_worker(
                    settings=settings,
                    database=db,
                    name="vulnops-serve",
                    concurrency=settings.serve_worker_concurrency,
                ),
                name="in-process worker",
            )
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            if catcher is not None:
                catcher.close()
                await catcher.wait_closed()
            if database is None:
                await db.dispose()
                if settings.database_url is None:
                    embedded.release(embedded_pgdata(settings))

    app = FastAPI(
        title="vulnops",
        version=__version__,
        summary="Security response for cloud services.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Need to know, on every route: a restricted case is not there for staff off its team.
        dependencies=[Depends(need_to_know)],
        # The largest body a route takes (an upload), plus room for the form around it.
        max_body_size=max(settings.max_attachment_bytes, settings.max_sarif_bytes) + 2**20,
    )
    app.state.settings = settings
    app.state.sso = sso.client(settings)  # None without single sign-on
    app.state.navigation = partial(nav_for, demo_inbox=settings.demo_inbox)
    if database is not None:
        app.state.db = database
    for router in ROUTERS:
        app.include_router(router)
    app.mount(
        "/static/swagger",
        StaticFiles(directory=str(resources.files("fastapi_swagger") / "resources")),
        name="swagger",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    app.openapi = partial(openapi.document, app)  # type: ignore[method-assign]

    secret = settings.session_secret()
    # The session wraps the CSRF check, which binds its token to the signed-in session.
    app.add_middleware(CSRFMiddleware, secret=secret, secure=settings.cookie_secure)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="vulnops_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure)
    if settings.trusted_proxies:
        # Outermost: every layer below sees the client the trusted proxy names.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    second_factor.required_roles(settings)  # an unknown role name stops the start
    for warning in settings.deployment_warnings():
        log.warning("%s", warning)
    check_rules(app.routes)
    check_bounds(app.routes)
    return app


def serving_app() -> FastAPI:
    """The app as ``vulnops serve`` runs it, in each of its web processes (a uvicorn factory;
    a web process it starts is a new interpreter, whose logging is set up here)."""
    settings = get_settings()
    logs.configure(settings.log_level)
    return create_app(settings, run_worker=settings.serve_runs_worker)
