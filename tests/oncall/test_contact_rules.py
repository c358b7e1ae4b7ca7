"""Each person's contact rules: email at once and their own chat webhook (a real Slack-format
receiver) minutes later unless acknowledged by then, rules by urgency, nobody told twice — and
the bad rules each refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text

from helpers import api_token, bearer, csrf, run_jobs_until, serving, sign_in
from oncall.test_mirrors import Receivers
from vulnops.auth.models import User
from vulnops.db.database import Database
from vulnops.oncall import contacts, engine, paging
from vulnops.oncall.channels import chat_escaped
from vulnops.settings import Settings
from vulnops.web.app import create_app

NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # bob is on call on "primary"


async def _bob(db: Database) -> User:
    async with db.session() as session:
        found = await session.scalar(select(User).where(User.email == "bob@example.com"))
    assert found is not None
    return found


async def _raise(db: Database, settings: Settings, urgency: str, key: str) -> int:
    async with db.session() as session:
        raised = await paging.raise_page(
            session,
            dedup_key=key,
            title="Disk full on db-7",
            urgency=urgency,
            source="alert",
            services=[],
            actor="t",
            now=NOW,
            settings=settings,
        )
        await engine.escalate(
            session, page_id=raised.page.id, step=0, loop=0, now=NOW, settings=settings
        )
        await session.commit()
    return raised.page.id


async def _notifications(db: Database, page_id: int) -> list[tuple[str, int]]:
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT channel, delay_minutes FROM page_notifications WHERE page_id = :p "
                "ORDER BY id"
            ),
            {"p": page_id},
        )
    return [(channel, delay) for channel, delay in rows.all()]


async def _later_jobs(db: Database, page_id: int) -> list[dict[str, Any]]:
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT args, scheduled_at FROM procrastinate_jobs "
                "WHERE task_name = 'oncall:notify_later' AND (args->>'page_id')::int = :p"
            ),
            {"p": page_id},
        )
    return [{**args, "at": at} for args, at in rows.all()]


async def _later(db: Database, settings: Settings, job: dict[str, Any]) -> bool:
    async with db.session() as session:
        sent = await engine.notify_later(
            session,
            page_id=job["page_id"],
            step=job["step"],
            loop=job["loop"],
            user_id=job["user_id"],
            rule_id=job["rule_id"],
            settings=settings,
        )
        await session.commit()
    return sent


async def test_email_at_once_then_chat_unless_acknowledged(
    db: Database, oncall: None, settings: Settings
) -> None:
    receivers = Receivers()
    # The receiver listens on 127.0.0.1: private addresses are allowed here.
    allowed = settings.model_copy(update={"notify_webhook_allow_private": True})
    transport = httpx.ASGITransport(app=create_app(allowed, database=db))
    bob = await _bob(db)
    headers = bearer(await api_token(db, bob))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    with serving(receivers.app()) as url:
        put = await client.put(
            "/api/oncall/me/contact-rules",
            json={
                "rules": [
                    {"channel": "email"},
                    {
                        "channel": "chat",
                        "delay_minutes": 5,
                        "urgency": "high",
                        "address": f"{url}/slack",
                    },
                ]
            },
            headers=headers,
        )
        assert put.status_code == 200, put.text
        shown = put.json()
        assert shown["default"] is False
        assert [r["address_host"] for r in shown["rules"]] == [None, "127.0.0.1"]
        assert "slack" not in put.text  # the webhook's path is its secret: never shown back

        high = await _raise(db, allowed, "high", "alert:high")
        assert await _notifications(db, high) == [("email", 0)]
        [job] = await _later_jobs(db, high)
        assert job["at"] == NOW + timedelta(minutes=5)
        assert await _later(db, allowed, job) is True
        assert await _later(db, allowed, job) is False  # a retried job tells nobody twice
        assert await _notifications(db, high) == [("email", 0), ("chat", 5)]

        async def posted() -> bool:
            return len(receivers.chat) == 1

        await run_jobs_until(db, allowed, posted)
        assert receivers.refused == []
        message = receivers.chat[0]["text"]
        assert f"page #{high}: Disk full on db-7" in message and "/pages/ack?token=" in message

        # Acknowledged within the five minutes: the chat rule stays silent.
        second = await _raise(db, allowed, "high", "alert:second")
        async with db.session() as session:
            await paging.acknowledge(
                session, page_id=second, actor=bob.email, now=NOW, settings=allowed
            )
            await session.commit()
        [job] = await _later_jobs(db, second)
        assert await _later(db, allowed, job) is False
        assert await _notifications(db, second) == [("email", 0)]

    await client.aclose()
    # A low-urgency page: the chat rule is for high urgency only.
    low = await _raise(db, allowed, "low", "alert:low")
    assert await _notifications(db, low) == [("email", 0)]
    assert await _later_jobs(db, low) == []


async def test_bad_rules_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, oncall: None
) -> None:
    bob = await _bob(db)
    headers = bearer(await api_token(db, bob))
    url = "/api/oncall/me/contact-rules"
    refused = {
        "needs its incoming-webhook URL": [{"channel": "chat"}],
        "account's address": [{"channel": "email", "address": "https://example.com/x"}],
        "two email rules after 0 minutes": [{"channel": "email"}, {"channel": "email"}],
        "for the same pages": [
            {"channel": "email", "delay_minutes": 5},
            {"channel": "email", "delay_minutes": 5, "urgency": "high"},
        ],
        "less than or equal to 120": [{"channel": "email", "delay_minutes": 121}],
        "at most 10": [{"channel": "email", "delay_minutes": n} for n in range(11)],
        "private": [{"channel": "chat", "address": "http://10.0.0.7/hook"}],
        "channel": [{"channel": "sms"}],
    }
    for expected, rules in refused.items():
        answer = await client.put(url, json={"rules": rules}, headers=headers)
        assert answer.status_code == 422, (expected, answer.text)
        assert expected in answer.text, (expected, answer.text)
    async with db.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM oncall_contact_rules")) == 0
    mine = await client.get(url, headers=headers)
    assert mine.json() == {
        "rules": [
            {
                "id": None,
                "channel": "email",
                "delay_minutes": 0,
                "urgency": "any",
                "address_host": None,
            }
        ],
        "default": True,
    }


async def test_rules_are_added_and_removed_from_the_on_call_page(
    client: httpx.AsyncClient, db: Database, oncall: None
) -> None:
    await sign_in(client, "bob@example.com")
    page = await client.get("/oncall")
    assert 'data-testid="contact-rules"' in page.text and "the default" in page.text
    token = await csrf(client, "/oncall")
    added = await client.post(
        "/oncall/contact-rules",
        data={"channel": "email", "delay_minutes": "10", "urgency": "high", "csrftoken": token},
    )
    assert added.status_code == 303
    page = await client.get("/oncall")
    assert "10 min" in page.text and "high urgency" in page.text and "the default" not in page.text
    bad = await client.post(
        "/oncall/contact-rules",
        data={"channel": "chat", "csrftoken": token},
        headers={"referer": "http://testserver/oncall"},
    )
    assert bad.status_code == 303
    assert "needs its incoming-webhook URL" in (await client.get(bad.headers["location"])).text
    async with db.session() as session:
        rule_id = await session.scalar(text("SELECT id FROM oncall_contact_rules"))
    removed = await client.post(
        f"/oncall/contact-rules/{rule_id}/remove", data={"csrftoken": token}
    )
    assert removed.status_code == 303
    assert "the default" in (await client.get("/oncall")).text
    again = await client.post(
        f"/oncall/contact-rules/{rule_id}/remove",
        data={"csrftoken": token},
        headers={"referer": "http://testserver/oncall"},
    )
    assert again.status_code == 404


async def test_a_rule_kept_keeps_what_it_has_pending_and_other_urgencies_fall_back(
    db: Database, oncall: None, settings: Settings
) -> None:
    bob = await _bob(db)

    async def rules(*wanted: dict[str, Any]) -> None:
        async with db.session() as session:
            await contacts.replace(
                session,
                user_id=bob.id,
                rules=[contacts.RuleIn.model_validate(rule) for rule in wanted],
                actor=bob.email,
                allow_private=False,
            )
            await session.commit()

    later = {"channel": "email", "delay_minutes": 10, "urgency": "high"}
    await rules({"channel": "email"}, later)
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 9})  # queued
    page_id = await _raise(db, settings, "high", "alert:kept")
    [job] = await _later_jobs(db, page_id)
    # Bob adds a rule: the ten-minute reminder already scheduled still goes.
    await rules({"channel": "email"}, later, {"channel": "email", "delay_minutes": 30})
    assert await _later(db, settings, job) is True
    assert await _notifications(db, page_id) == [("email", 0), ("email", 10)]
    # Rules for high urgency only: a low page still reaches him, by the default.
    await rules(later)
    low = await _raise(db, settings, "low", "alert:low-only")
    assert await _notifications(db, low) == [("email", 0)]


def test_a_subject_cannot_mention_the_channel_or_disguise_a_link_in_chat() -> None:
    text_ = chat_escaped("<!channel> see <https://evil.example|vulnops> & more")
    assert text_ == "&lt;!channel&gt; see &lt;https://evil.example|vulnops&gt; &amp; more"
