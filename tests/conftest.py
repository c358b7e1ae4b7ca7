"""Test harness: a real PostgreSQL (``VULNOPS_TEST_DATABASE_URL`` or an embedded one), a fresh
database per session with every migration applied, and every table emptied after each test."""

from __future__ import annotations

import json
import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from psycopg import sql
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from helpers import FLEET_SEED, PASSING_JUNIT, PASSWORD, FixMaker, SmtpSink
from vulnops import wiring
from vulnops.auth import passwords
from vulnops.auth.models import User
from vulnops.auth.roles import Role
from vulnops.cases import service as cases
from vulnops.cases.states import CaseState
from vulnops.db import embedded, migrate
from vulnops.db.base import Base
from vulnops.db.database import Database
from vulnops.fleet import generator, importer, tenant_import
from vulnops.models import import_models
from vulnops.remediation import service as remediation
from vulnops.settings import Settings
from vulnops.tenants.models import Tenant
from vulnops.web.app import create_app

import_models()
wiring.wire()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server: the one named by VULNOPS_TEST_DATABASE_URL, else an embedded one."""
    configured = os.environ.get("VULNOPS_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    root = Path(tempfile.mkdtemp(prefix="vulnops-test-pg-"))
    yield embedded.start_server(root / "pg", delete_on_exit=True)


@pytest.fixture(scope="session")
def conninfo(server_url: str) -> Iterator[str]:
    name = f"vulnops_test_{secrets.token_hex(4)}"
    url = embedded.ensure_database(server_url, name)
    migrate.upgrade(url)
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
async def database(conninfo: str) -> AsyncIterator[Database]:
    db = Database(conninfo, pool_size=5)
    yield db
    await db.dispose()


def _all_tables() -> list[str]:
    tables = [table.name for table in Base.metadata.sorted_tables]
    return [
        *tables,
        "procrastinate_jobs",
        "procrastinate_events",
        "procrastinate_periodic_defers",
        "procrastinate_workers",
    ]


APPEND_ONLY = (
    ("audit_events", "audit_events_no_truncate"),
    ("bounty_ledger_entries", "bounty_ledger_no_truncate"),
)


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The database, emptied after the test (every table, and the audit chain reset).

    The event log and the bounty ledger refuse TRUNCATE (migrations 0017, 0026), as they should
    for everyone else: the reset switches those triggers off as the tables' owner, inside its own
    transaction, so no other session ever sees them off and a failed reset leaves them on."""
    yield database
    async with database.session() as session:
        for table, trigger in APPEND_ONLY:
            await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        await session.execute(text(f"TRUNCATE {', '.join(_all_tables())} RESTART IDENTITY CASCADE"))
        for table, trigger in APPEND_ONLY:
            await session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
        await session.execute(
            text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '')")
        )
        await session.commit()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session() as s:
        yield s


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One Argon2 hash for every test user: hashing is slow on purpose."""
    return passwords._hasher.hash(PASSWORD)


@pytest.fixture
def make_user(db: Database, password_hash: str) -> Callable[..., Awaitable[User]]:
    """Insert a user with the password ``PASSWORD`` (customers get a tenant of their own)."""

    async def make(role: Role, *, email: str | None = None, tenant_key: str | None = None) -> User:
        async with db.session() as s:
            tenant_id = None
            if role is Role.CUSTOMER:
                key = tenant_key or f"tenant-{secrets.token_hex(3)}"
                tenant = await s.scalar(select(Tenant).where(Tenant.key == key))
                if tenant is None:
                    tenant = Tenant(key=key, name=key.title())
                    s.add(tenant)
                    await s.flush()
                tenant_id = tenant.id
            user = User(
                email=email or f"{role.value}-{secrets.token_hex(3)}@example.com",
                display_name=role.value.title(),
                role=role.value,
                tenant_id=tenant_id,
                password_hash=password_hash,
            )
            s.add(user)
            await s.commit()
            return user

    return make


@pytest.fixture
def settings(tmp_path: Path, conninfo: str) -> Settings:
    return Settings(
        database_url=conninfo,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key",
        login_max_failures_per_account=3,
        login_max_failures_per_address=6,
        second_factor_roles=[],  # the second-factor tests ask for it
        worker_heartbeat_seconds=1,
        worker_stalled_seconds=3,
    )


@pytest.fixture
async def client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: tuple[SmtpSink, int]) -> Settings:
    """Settings with SMTP pointing at the test server."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server[1],
            "triage_email": "triage@example.com",
        }
    )


@pytest.fixture
async def mail_client(db: Database, mail_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(mail_settings, database=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _pieces(pieces: Iterator[str]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece.encode()


@pytest.fixture
async def fleet(db: Database) -> dict[str, object]:
    """The small demo fleet (10 regions, 5 services), imported."""
    topology = generator.topology(FLEET_SEED, "small")
    async with db.session() as session:
        await importer.import_bundle(
            session,
            actor="test",
            topology=(json.dumps(topology), "topology"),
            tenants=(
                _pieces(
                    generator.csv_text(
                        generator.tenant_rows(FLEET_SEED, "small"), tenant_import.TENANT_COLUMNS
                    )
                ),
                "tenants.csv",
            ),
            sboms=[
                importer.SbomIn(service=s, version=v, text=json.dumps(doc), source=f"{s}@{v}")
                for s, v, doc in generator.sboms(FLEET_SEED, "small")
            ],
        )
        await session.commit()
    return topology


@pytest.fixture
def make_fix(db: Database, settings: Settings) -> FixMaker:
    """A triaged case with a fix of ``service`` at ``version``, with passing evidence unless
    told."""

    async def make(
        version: str, *, service: str = "storage", evidence: bool = True, actor: str = "test"
    ) -> int:
        async with db.session() as session:
            case = await cases.open_case(
                session,
                title=f"Fix {service} {version}",
                summary="",
                services=[service],
                actor=actor,
                settings=settings,
                now=datetime.now(UTC),
            )
            await cases.transition(
                session,
                case_id=case.id,
                target=CaseState.REMEDIATING,
                reason=None,
                actor=actor,
                now=datetime.now(UTC),
                settings=settings,
            )
            fix = await remediation.create_fix(
                session,
                case_id=case.id,
                service_key=service,
                version=version,
                artifact=f"registry.example/{service}:{version}",
                notes="",
                actor=actor,
            )
            if evidence:
                for suite in ("compatibility", "data-integrity"):
                    await remediation.add_evidence(
                        session,
                        fix_id=fix.id,
                        suite=suite,
                        data=PASSING_JUNIT,
                        file_name=f"{suite}.xml",
                        actor=actor,
                        now=datetime.now(UTC),
                        settings=settings,
                    )
            await session.commit()
            return fix.id

    return make
