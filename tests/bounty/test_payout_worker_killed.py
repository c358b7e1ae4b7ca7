"""The payout sender killed (SIGKILL) between "payout requested" and the payment system's
answer: another worker sends the payout again with the same ``webhook-id``, the payment system
pays it once, and the ledger records the one payment once."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import text
from standardwebhooks import Webhook

from helpers import MakeUser, run_jobs_until
from vulnops.auth.roles import Role
from vulnops.bounty import ledger, payouts, reconcile
from vulnops.db.database import Database
from vulnops.settings import Settings

SECRET = "whsec_" + base64.b64encode(b"a payment system that pays once").decode()


@dataclass
class HangingPaymentSystem:
    """Pays each ``webhook-id`` once; its first answer never comes (it hangs until the caller
    goes away), as when the worker dies while the payment is being made."""

    url: str = ""
    hang: bool = True
    posted: Counter[str] = field(default_factory=Counter)
    paid: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        Webhook(SECRET).verify(body, dict(request.headers))
        key = request.headers["webhook-id"]
        assert json.loads(body)["payout"] == key
        self.posted[key] += 1
        reference = self.paid.setdefault(key, f"PAY-{len(self.paid) + 1}")
        self.arrived.set()
        if self.hang:
            await asyncio.Event().wait()
        return web.json_response({"status": "paid", "reference": reference})


@pytest.fixture
async def payment_system() -> AsyncIterator[HangingPaymentSystem]:
    system = HangingPaymentSystem()
    app = web.Application()
    app.router.add_post("/payouts", system.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    system.url = f"http://127.0.0.1:{port}/payouts"
    yield system
    await runner.cleanup()


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vulnops", "worker", "--name", "doomed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_a_worker_killed_before_the_answer_pays_once(
    db: Database,
    conninfo: str,
    settings: Settings,
    make_user: MakeUser,
    payment_system: HangingPaymentSystem,
) -> None:
    ada = (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await ledger.grant(
            s,
            key="award:1",
            researcher_id=ada,
            program="cloud",
            amount=4_000_00,
            currency="USD",
            actor="staff",
        )
        await payouts.set_payee(
            s,
            researcher_id=ada,
            payment_reference="wise:ada",
            country="DE",
            tax_form_received=True,
            actor="finance",
            now=datetime.now(UTC),
        )
        await payouts.ask(
            s, key="payout:ada:1", researcher_id=ada, amount=2_500_00, currency="USD", actor="f"
        )
        await s.commit()

    env = {
        **os.environ,
        "VULNOPS_DATABASE_URL": conninfo,
        "VULNOPS_BOUNTY_PAYOUT_BACKEND": "webhook",
        "VULNOPS_BOUNTY_PAYOUT_WEBHOOK_URL": payment_system.url,
        "VULNOPS_BOUNTY_PAYOUT_WEBHOOK_SECRET": SECRET,
        "VULNOPS_WORKER_HEARTBEAT_SECONDS": "1",
        "VULNOPS_LOG_LEVEL": "warning",
    }
    worker = _worker(env)
    try:
        await asyncio.wait_for(payment_system.arrived.wait(), timeout=120)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    async with db.session() as s:  # killed after the payment, before its answer was recorded
        owed = await ledger.balance(s, researcher_id=ada, currency="USD")
        assert (owed.available, owed.in_flight, owed.paid) == (1_500_00, 2_500_00, 0)

    payment_system.hang = False
    after = settings.model_copy(
        update={
            "bounty_payout_backend": "webhook",
            "bounty_payout_webhook_url": payment_system.url,
            "bounty_payout_webhook_secret": SecretStr(SECRET),
            "worker_stalled_seconds": 2,
        }
    )

    async def answered() -> bool:
        async with db.session() as s:
            return bool(
                await s.scalar(
                    text("SELECT count(*) FROM bounty_ledger_entries WHERE kind = 'paid'")
                )
            )

    await run_jobs_until(db, after, answered, within=90)
    assert payment_system.posted == Counter({"payout:ada:1": 2})  # sent again after the kill
    assert payment_system.paid == {"payout:ada:1": "PAY-1"}  # and paid once
    async with db.session() as s:
        owed = await ledger.balance(s, researcher_id=ada, currency="USD")
        assert (owed.available, owed.in_flight, owed.paid) == (1_500_00, 0, 2_500_00)
        settled = await s.execute(
            text(
                "SELECT transaction_key, reference FROM bounty_ledger_entries "
                "WHERE kind = 'paid' AND line = 0"
            )
        )
        assert settled.all() == [("payout:ada:1:paid", "PAY-1")]
        assert (await reconcile.reconcile(s)).ok
