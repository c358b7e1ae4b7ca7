"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiosmtpd.smtp import Envelope
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from vulnops import jobs
from vulnops.auth import service
from vulnops.auth.models import User
from vulnops.cli.main import app
from vulnops.db.database import Database
from vulnops.settings import Settings, get_settings

PASSWORD = "correct horse battery staple"

MakeUser = Callable[..., Awaitable[User]]
FixMaker = Callable[..., Awaitable[int]]  # version, *, service, evidence, actor -> fix id
FLEET_SEED = 7  # the small generated fleet of the ``fleet`` fixture
PASSING_JUNIT = b"""<?xml version="1.0"?>
<testsuite name="suite" tests="3"><testcase classname="c" name="a"/><testcase classname="c"
name="b"/><testcase classname="c" name="skipped"><skipped/></testcase></testsuite>"""
FAILING_JUNIT = b"""<testsuite name="suite"><testcase classname="c" name="a"><failure
message="boom">trace</failure></testcase><testcase classname="c" name="b"/></testsuite>"""


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


async def csrf(client: httpx.AsyncClient, page: str = "/login") -> str:
    """The CSRF token a browser would send after loading ``page``: its form's hidden field."""
    response = await client.get(page)
    match = re.search(r'name="csrftoken" value="([^"]+)"', response.text)
    assert match is not None, f"{page} has no form with a CSRF token"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    token = await csrf(client)
    return await client.post(
        "/login", data={"email": email, "password": password, "csrftoken": token}
    )


async def api_token(db: Database, user: User) -> str:
    """A bearer token for ``user``."""
    async with db.session() as session:
        _, secret = await service.create_token(
            session,
            user_id=user.id,
            name="test",
            expires_in_days=1,
            max_days=90,
            actor="test",
            now=datetime.now(UTC),
        )
        await session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def run_jobs_until(
    db: Database, settings: Settings, done: Callable[[], Awaitable[bool]], *, within: float = 30
) -> None:
    """Run a job worker in this process until ``done()`` says so (or fail after ``within`` s)."""
    worker = asyncio.create_task(jobs.run_worker(settings=settings, database=db, name="test"))
    try:
        deadline = time.monotonic() + within
        while not await done():
            if worker.done():
                worker.result()
            if time.monotonic() > deadline:
                raise AssertionError(f"not done after {within}s")
            await asyncio.sleep(0.1)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


def sample(relative: str) -> Path:
    """A real input from ../shared/samples (see its README for the sources)."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"the shared samples are not beside the repository ({SAMPLES})")
    return path


@dataclass
class Clock:
    """Virtual time for the controller (and the simulated fleet that runs on it)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving_app(settings: Settings, *, port: int | None = None) -> Iterator[str]:
    """The whole app on a real socket, in a thread with its own event loop, its own connection
    pool and its lifespan (what ``vulnops serve`` runs, without the worker); ``port``: a port
    chosen beforehand (see :func:`free_port`)."""
    from vulnops.web.app import UVICORN_PROXY_HEADERS, create_app  # noqa: PLC0415 - the CLI tests time imports

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            proxy_headers=UVICORN_PROXY_HEADERS,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def cli(*args: str, env: dict[str, str]) -> Result:
    """Run the ``vulnops`` command in this process (Typer's runner) with only ``env``'s
    VULNOPS_ settings; its standard output and error apart, its exit code."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("VULNOPS_")}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={**unset, "COLUMNS": "200", **env})
    finally:
        get_settings.cache_clear()


async def acli(*args: str, env: dict[str, str]) -> Result:
    """:func:`cli` from an async test (the command runs its own event loop, in a thread)."""
    return await asyncio.to_thread(cli, *args, env=env)


def vulnops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed ``vulnops`` command in a child process with only ``env``'s VULNOPS_
    settings (the tests of the command itself; the others use :func:`cli`)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("VULNOPS_")}
    return subprocess.run(
        [sys.executable, "-m", "vulnops", *args],
        env={**inherited, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
