"""Payouts: payee profiles that hold no bank number, a payout sent to a real HTTP receiver that
verifies its Standard Webhooks signature, a resend after a crash paid once, the manual backend,
and the CSV for finance."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from helpers import MakeUser
from vulnops.auth.roles import Role
from vulnops.bounty import ledger, payouts, reconcile
from vulnops.bounty.backends import ManualBackend, PayoutOrder, WebhookBackend
from vulnops.db.database import Database
from vulnops.errors import Conflict, Invalid, Upstream

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"the payment system's shared secret").decode()


@dataclass
class PaymentSystem:
    """A real HTTP server that checks each payout's signature and pays each ``webhook-id``
    once, however often it is sent."""

    url: str = ""
    answer: str = "paid"
    received: list[dict[str, Any]] = field(default_factory=list)
    paid: dict[str, str] = field(default_factory=dict)
    refused: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            Webhook(SECRET).verify(body, dict(request.headers))
        except Exception:
            self.refused += 1
            return web.json_response({"error": "bad signature"}, status=401)
        payout = json.loads(body)
        self.received.append(payout)
        key = request.headers["webhook-id"]
        reference = self.paid.setdefault(key, f"PAY-{len(self.paid) + 1}")
        return web.json_response({"status": self.answer, "reference": reference})


@pytest.fixture
async def payment_system() -> AsyncIterator[PaymentSystem]:
    system = PaymentSystem()
    app = web.Application()
    app.router.add_post("/payouts", system.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    system.url = f"http://127.0.0.1:{port}/payouts"
    yield system
    await runner.cleanup()


async def _owed(db: Database, make_user: MakeUser, amount: int, *, tax_form: bool = True) -> int:
    ada = (await make_user(Role.RESEARCHER)).id
    async with db.session() as s:
        await ledger.grant(
            s,
            key=f"award:{ada}",
            researcher_id=ada,
            program="cloud",
            amount=amount,
            currency="USD",
            actor="staff",
        )
        await payouts.set_payee(
            s,
            researcher_id=ada,
            payment_reference="payoneer:ada-7731",
            country="fr",
            tax_form_received=tax_form,
            actor="finance",
            now=NOW,
        )
        await s.commit()
    return ada


async def test_a_payout_through_the_signed_webhook_is_paid_once_however_often_sent(
    db: Database, make_user: MakeUser, payment_system: PaymentSystem
) -> None:
    ada = await _owed(db, make_user, 5_000_00)
    backend = WebhookBackend(payment_system.url, SECRET)
    async with db.session() as s:
        await payouts.ask(
            s, key="payout:1", researcher_id=ada, amount=3_000_00, currency="USD", actor="finance"
        )
        await s.commit()
    # The worker sends, the payment system pays, and the worker dies before recording it.
    assert (await backend.send(_order(ada))).status == "paid"
    async with db.session() as s:  # sent again after the crash: the same webhook-id
        answer = await payouts.send(s, payout_key="payout:1", backend=backend, actor="worker")
        await s.commit()
    assert (answer.status, answer.reference) == ("paid", "PAY-1")
    assert len(payment_system.paid) == 1 and len(payment_system.received) == 2
    assert payment_system.received[0] == {
        "type": "bounty.payout",
        "payout": "payout:1",
        "researcher": ada,
        "amount": 3_000_00,
        "currency": "USD",
        "payment_reference": "payoneer:ada-7731",
        "country": "FR",
    }
    async with db.session() as s:
        owed = await ledger.balance(s, researcher_id=ada, currency="USD")
        assert (owed.available, owed.in_flight, owed.paid) == (2_000_00, 0, 3_000_00)
        with pytest.raises(Conflict, match="already answered: paid"):
            await payouts.send(s, payout_key="payout:1", backend=backend, actor="worker")
        assert (await reconcile.reconcile(s)).ok


def _order(ada: int) -> PayoutOrder:
    return PayoutOrder("payout:1", ada, 3_000_00, "USD", "payoneer:ada-7731", "FR")


async def test_a_wrong_secret_or_a_failed_payment_is_told_apart(
    db: Database, make_user: MakeUser, payment_system: PaymentSystem
) -> None:
    ada = await _owed(db, make_user, 1_000_00)
    async with db.session() as s:
        await payouts.ask(
            s, key="payout:9", researcher_id=ada, amount=1_000_00, currency="USD", actor="finance"
        )
        wrong = WebhookBackend(payment_system.url, "whsec_" + base64.b64encode(b"guess").decode())
        with pytest.raises(Upstream, match="answered 401"):
            await payouts.send(s, payout_key="payout:9", backend=wrong, actor="worker")
        assert payment_system.refused == 1
        payment_system.answer = "failed"
        answer = await payouts.send(
            s,
            payout_key="payout:9",
            backend=WebhookBackend(payment_system.url, SECRET),
            actor="worker",
        )
        assert answer.status == "failed"
        assert (await ledger.balance(s, researcher_id=ada, currency="USD")).available == 1_000_00


async def test_the_manual_backend_waits_for_finance_and_the_csv_has_every_payout(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _owed(db, make_user, 2_000_00)
    async with db.session() as s:
        await payouts.ask(
            s, key="payout:m", researcher_id=ada, amount=1_250_00, currency="USD", actor="finance"
        )
        assert (
            await payouts.send(s, payout_key="payout:m", backend=ManualBackend(), actor="finance")
        ).status == "accepted"
        with pytest.raises(Invalid, match="needs the payment system's reference"):
            await payouts.mark(s, payout_key="payout:m", paid=True, actor="finance", reference="")
        await payouts.set_payee(
            s,
            researcher_id=ada,
            payment_reference='=HYPERLINK("http://x")',
            country="FR",
            tax_form_received=True,
            actor="finance",
            now=NOW,
        )
        await payouts.ask(
            s, key="payout:n", researcher_id=ada, amount=250_00, currency="USD", actor="finance"
        )
        await payouts.mark(s, payout_key="payout:m", paid=True, actor="finance", reference="W-1")
        exported = await payouts.export_csv(s, since=NOW - timedelta(days=365))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [
        (r["payout"], r["amount"], r["status"], r["payment_system_reference"]) for r in rows
    ] == [
        ("payout:m", "1250.00", "paid", "W-1"),
        ("payout:n", "250.00", "requested", ""),
    ]
    assert rows[1]["payment_reference"].startswith("'=")  # never run as a formula
    assert rows[0]["country"] == "FR" and rows[0]["tax_form_received"] == "yes"


async def test_a_payee_holds_no_bank_number_and_no_tax_form_means_no_payout(
    db: Database, make_user: MakeUser
) -> None:
    ada = await _owed(db, make_user, 1_000_00, tax_form=False)
    async with db.session() as s:
        for reference in ("FR76 3000 6000 0112 3456 7890 189", "4111 1111 1111 1111"):
            with pytest.raises(Invalid, match="looks like a bank account or card number"):
                await payouts.set_payee(
                    s,
                    researcher_id=ada,
                    payment_reference=reference,
                    country="FR",
                    tax_form_received=True,
                    actor="finance",
                    now=NOW,
                )
        with pytest.raises(Invalid, match="not an ISO 3166 country code"):
            await payouts.set_payee(
                s,
                researcher_id=ada,
                payment_reference="payoneer:x",
                country="XX1",
                tax_form_received=True,
                actor="finance",
                now=NOW,
            )
        with pytest.raises(Invalid, match="tax form has not been received"):
            await payouts.ask(
                s, key="p", researcher_id=ada, amount=100, currency="USD", actor="finance"
            )
