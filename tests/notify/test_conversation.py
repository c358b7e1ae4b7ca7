"""A conversation per advisory and tenant: the customer asks, the team answers, each side is
told by a real SMTP server (the customer without detail), another tenant never sees it, bad
messages are refused with nothing written, and a question about a critical case left
unanswered past its time pages the on-call once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from notify_world import World, sent_advisory
from sqlalchemy import func, select, text, update

from helpers import MakeUser, SmtpSink, api_token, bearer, run_jobs_until
from vulnops.auth import service as users
from vulnops.auth.roles import Role
from vulnops.cases.models import Case
from vulnops.db.database import Database
from vulnops.mail.models import OutboundEmail
from vulnops.notify import conversation
from vulnops.notify.models import AdvisoryMessage, Conversation
from vulnops.oncall import rules
from vulnops.oncall.models import Page
from vulnops.settings import Settings
from vulnops.web.app import create_app

QUESTION = "We still see **version 1.0** on resource `acme-bucket-1`. Is it patched?"
ANSWER = "Yes: the fix reached that unit at 10:00 UTC; the console shows it within the hour."


async def _messages(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AdvisoryMessage)) or 0)


async def test_a_customer_asks_the_team_answers_and_each_side_is_told(
    mail_client: httpx.AsyncClient,
    db: Database,
    mail_settings: Settings,
    smtp_server: tuple[SmtpSink, int],
    make_user: MakeUser,
    make_world: Any,
) -> None:
    client, sink = mail_client, smtp_server[0]
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(client, comms, world, approver)
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    globex = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="globex")))
    hooli = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="hooli")))
    mine = f"/api/advisories/{advisory}/messages"

    # Bad messages: each a clear 422, nothing written.
    for body in ({"body": ""}, {"body": "   \n "}, {"body": "x" * 10_001}, {}):
        refused = await client.post(mine, json=body, headers=acme)
        assert refused.status_code == 422, (body, refused.text)
        assert "body" in refused.text
    assert await _messages(db) == 0

    asked = await client.post(mine, json={"body": QUESTION}, headers=acme)
    assert asked.status_code == 201, asked.text
    # Not in the audience (hooli has no resource on the affected units): no such advisory.
    assert (await client.get(mine, headers=hooli)).status_code == 404
    assert (await client.post(mine, json={"body": "hi"}, headers=hooli)).status_code == 404
    # In the audience, another tenant: its own conversation, empty.
    assert (await client.get(mine, headers=globex)).json() == []

    staff_list = f"/api/cases/{world.case_id}/advisory/conversations"
    [waiting] = (await client.get(staff_list, headers=comms)).json()["items"]
    assert waiting["tenant_key"] == "acme" and waiting["messages"] == 1
    # An unrated case counts as moderate: 72 hours to answer.
    since = datetime.fromisoformat(waiting["waiting_since"])
    assert datetime.fromisoformat(waiting["answer_due"]) - since == timedelta(hours=72)
    queue = (await client.get("/api/queue", headers=comms)).json()
    [questions] = [s for s in queue["sections"] if s["key"] == "customer_questions"]
    assert questions["count"] == 1 and "Acme Corp" in questions["items"][0]["title"]

    acme_id, hooli_id = world.tenant_ids["acme"], world.tenant_ids["hooli"]
    thread = f"{staff_list}/{acme_id}"
    assert (
        await client.post(f"{staff_list}/{hooli_id}", json={"body": ANSWER}, headers=comms)
    ).status_code == 404
    answered = await client.post(thread, json={"body": ANSWER}, headers=comms)
    assert answered.status_code == 201, answered.text
    seen = (await client.get(thread, headers=comms)).json()
    assert seen["conversation"]["waiting_since"] is None and seen["conversation"]["messages"] == 2
    assert [m["from_staff"] for m in seen["messages"]] == [False, True]

    theirs = (await client.get(mine, headers=acme)).json()
    assert [m["body"] for m in theirs] == [QUESTION, ANSWER]
    assert theirs[1]["author"] == conversation.TEAM
    queue = (await client.get("/api/queue", headers=comms)).json()
    assert [s["count"] for s in queue["sections"] if s["key"] == "customer_questions"] == [0]

    def told(to: str, subject_part: str) -> list[Any]:
        return [m for m in sink.messages if m["To"] == to and subject_part in m["Subject"]]

    async def both_told() -> bool:
        async with db.session() as session:
            pending = await session.scalar(
                select(OutboundEmail.id).where(
                    OutboundEmail.kind.in_(["advisory.question", "advisory.answer"]),
                    OutboundEmail.status != "sent",
                )
            )
        return pending is None and bool(told("triage@example.com", "A question from"))

    await run_jobs_until(db, mail_settings, both_told)
    [team] = told("triage@example.com", "A question from")
    assert "Acme Corp" in team["Subject"] and "acme-bucket-1" in team.get_content()
    [notice] = told("security@acme.test", "An answer about")
    content = notice.get_content()
    assert f"/advisories/{advisory}#conversation" in content
    # No detail of the vulnerability, nor of the conversation, in the customer's email.
    for secret in ("Bucket", "bucket", "1.0", "10:00", "patched"):
        assert secret not in content and secret not in notice["Subject"], secret
    assert not told("ops@globex.test", "An answer about")


async def test_a_restricted_case_s_conversations_are_not_there_for_outsiders(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    comms_user = await make_user(Role.COMMUNICATIONS)
    comms = bearer(await api_token(db, comms_user))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(client, comms, world, approver)
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    mine = f"/api/advisories/{advisory}/messages"
    assert (await client.post(mine, json={"body": QUESTION}, headers=acme)).status_code == 201
    async with db.session() as session:
        await session.execute(
            update(Case)
            .where(Case.id == world.case_id)
            .values(restricted=True, owner_id=comms_user.id)
        )
        await session.commit()
    outsider = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    staff = f"/api/cases/{world.case_id}/advisory/conversations"
    for method, path in (
        ("GET", staff),
        ("GET", f"{staff}/{world.tenant_ids['acme']}"),
        ("POST", f"{staff}/{world.tenant_ids['acme']}"),
        ("GET", f"/cases/{world.case_id}/advisory/conversations/{world.tenant_ids['acme']}"),
    ):
        body = {"json": {"body": ANSWER}} if method == "POST" else {}
        answer = await client.request(method, path, headers=outsider, **body)  # type: ignore[arg-type]
        assert answer.status_code == 404, (method, path, answer.status_code)
    for who, count in ((outsider, 0), (comms, 1)):
        assert (await client.get("/api/questions", headers=who)).json()["total"] == count
    # The customer is unaffected: it still reads its own conversation.
    assert len((await client.get(mine, headers=acme)).json()) == 1


async def test_a_critical_question_left_unanswered_pages_once_per_question(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    make_world: Any,
) -> None:
    world: World = await make_world()
    comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    advisory = await sent_advisory(client, comms, world, approver)
    customer = await make_user(Role.CUSTOMER, tenant_key="acme")
    staff = await make_user(Role.COMMUNICATIONS)
    acme = world.tenant_ids["acme"]
    asked_at = datetime.now(UTC) - timedelta(hours=5)

    async def ask(at: datetime) -> None:
        async with db.session() as session:
            await conversation.ask(
                session,
                advisory_id=advisory,
                tenant_id=acme,
                author=users.principal_of(customer, via="token"),
                body=QUESTION,
                settings=settings,
                now=at,
            )
            await session.commit()

    async def sweep(at: datetime) -> int:
        async with db.session() as session:
            raised = await rules.page_unanswered_questions(session, now=at, settings=settings)
            await session.commit()
        return raised

    await ask(asked_at)
    # Moderate (unrated): 72 hours to answer, and moderate does not page.
    assert await sweep(asked_at + timedelta(hours=100)) == 0
    async with db.session() as session:
        await session.execute(
            update(Case).where(Case.id == world.case_id).values(rating="critical")
        )
        await session.commit()
    # The due time was set by the rating when asked; a second question keeps the first's.
    await ask(asked_at + timedelta(minutes=30))
    async with db.session() as session:
        row = await session.get(Conversation, (advisory, acme))
        assert row is not None and row.messages == 2
        assert row.waiting_since == asked_at and row.answer_due == asked_at + timedelta(hours=72)
        await session.execute(
            text(
                "UPDATE advisory_conversations SET answer_due = waiting_since + interval '4 hours'"
            )
        )
        await session.commit()
    assert await sweep(asked_at + timedelta(hours=3)) == 0  # not due yet
    now = datetime.now(UTC)
    assert await sweep(now) == 1
    assert await sweep(now) == 0  # once per question
    async with db.session() as session:
        [page] = list(await session.scalars(select(Page)))
        assert page.source == "question" and page.urgency == "high"
        assert "Acme Corp waits for an answer" in page.subject
        await conversation.answer(
            session,
            case_id=world.case_id,
            tenant_id=acme,
            author=users.principal_of(staff, via="token"),
            body=ANSWER,
            settings=settings,
            now=now,
        )
        await session.commit()
    assert await sweep(now + timedelta(days=10)) == 0  # answered: nothing waits
    await ask(now)  # a new question: due 4 hours later (critical), its own page when late
    async with db.session() as session:
        row = await session.get(Conversation, (advisory, acme))
        assert row is not None and row.answer_due == now + timedelta(hours=4)
    assert await sweep(now + timedelta(hours=4, seconds=1)) == 1


async def test_files_follow_the_intake_limits_and_only_the_conversation_reads_them(
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    make_world: Any,
    tmp_path: Path,
) -> None:
    limited = settings.model_copy(
        update={
            "data_dir": tmp_path,
            "max_attachment_bytes": 1000,
            "attachment_bytes_per_conversation": 1500,
        }
    )
    app = create_app(limited, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        world: World = await make_world()
        comms = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
        approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
        advisory = await sent_advisory(client, comms, world, approver)
        acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
        globex = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="globex")))
        base = f"/api/advisories/{advisory}/messages"
        message = (await client.post(base, json={"body": QUESTION}, headers=acme)).json()["id"]
        files_of = f"{base}/{message}/attachments"

        def stored() -> list[Path]:
            folder = tmp_path / "attachments"
            return sorted(folder.iterdir()) if folder.exists() else []

        log = b"2026-12-01 fetch 169.254.169.254 blocked\n" * 14  # 588 bytes
        added = await client.post(files_of, files=[("file", ("fetch.log", log))], headers=acme)
        assert added.status_code == 201, added.text
        [attachment] = added.json()
        assert attachment["filename"] == "fetch.log" and attachment["size"] == len(log)
        got = await client.get(
            f"/advisories/{advisory}/attachments/{attachment['id']}", headers=acme
        )
        assert got.status_code == 200 and got.content == log
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"].startswith("attachment")
        # Another tenant: neither the file nor the message is there.
        for response in (
            await client.get(
                f"/advisories/{advisory}/attachments/{attachment['id']}", headers=globex
            ),
            await client.post(files_of, files=[("file", ("x.txt", b"x"))], headers=globex),
        ):
            assert response.status_code == 404
        assert len(stored()) == 1

        # One file over the size of a report's attachment; then two that would pass the
        # conversation's quota together: each a 413 naming its limit, nothing kept.
        big = await client.post(files_of, files=[("file", ("big.bin", b"x" * 1001))], headers=acme)
        assert big.status_code == 413 and "limit" in big.text
        two = [("file", ("a.log", log)), ("file", ("b.log", log))]
        over = await client.post(files_of, files=two, headers=acme)
        assert over.status_code == 413 and "one conversation may hold" in over.text
        empty = await client.post(files_of, files=[("file", ("e.txt", b""))], headers=acme)
        assert empty.status_code == 422 and "empty" in empty.text
        assert len(stored()) == 1

        # The page's form: a message and a file in one post; the team reads both.
        posted = await client.post(
            f"/advisories/{advisory}/messages",
            data={"body": "And the screenshot."},
            files=[("files", ("shot.png", b"\x89PNG fake"))],
            headers=acme,
        )
        assert posted.status_code == 303, posted.text
        thread = f"/api/cases/{world.case_id}/advisory/conversations/{world.tenant_ids['acme']}"
        seen = (await client.get(thread, headers=comms)).json()["messages"]
        assert [[f["filename"] for f in m["attachments"]] for m in seen] == [
            ["fetch.log"],
            ["shot.png"],
        ]
        team_copy = await client.get(
            f"/cases/{world.case_id}/advisory/conversations/{world.tenant_ids['acme']}"
            f"/attachments/{attachment['id']}",
            headers=comms,
        )
        assert team_copy.status_code == 200 and team_copy.content == log
        assert len(stored()) == 2
