"""A review through its routes: started only once mitigated, written, submitted, published
by a second person (four eyes) and then kept as it was; the customers' feedback of a
restricted case exists only for its team on every route, and a case that is not restricted
names no tenant outside its team; action items are tracked and the overdue ones are on their
owner's work queue; bad input is a clear 4xx and writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import func, select

from helpers import MakeUser, SmtpSink, api_token, bearer, run_jobs_until
from review.conftest import (
    T0,
    Script,
    TinyFleet,
    advisory_with_feedback,
    conversation_at,
    record_at,
)
from vulnops.auth.roles import Role
from vulnops.cases import service as cases
from vulnops.cases.models import CaseMember
from vulnops.cases.states import Milestone
from vulnops.db.database import Database
from vulnops.mail.models import OutboundEmail
from vulnops.review.models import ActionItem, ResponderFeedback, Review
from vulnops.settings import Settings

MITIGATED = [(Milestone.ACKNOWLEDGED, 1), (Milestone.TRIAGED, 3), (Milestone.MITIGATED, 30)]
SECTIONS = {
    "impact": "Tokens could be replayed for 30 hours on the storage API.",
    "went_well": "The canary caught the first bad build.",
    "went_wrong": "Triage waited for the owner to wake up.",
    "lucky": "Nobody had found it before the researcher.",
}


async def test_a_review_from_start_to_publication(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    script: Script,
) -> None:
    writer = await make_user(Role.RESPONDER)
    approver = await make_user(Role.COMMUNICATIONS)
    engineer, customer = await make_user(Role.ENGINEER), await make_user(Role.CUSTOMER)
    writing, approving = bearer(await api_token(db, writer)), bearer(await api_token(db, approver))
    reading, outside = bearer(await api_token(db, engineer)), bearer(await api_token(db, customer))
    moderate = await script([(Milestone.ACKNOWLEDGED, 1)], rating="moderate")
    # Not mitigated: no review, and none can start.
    assert (
        await client.get(f"/api/cases/{moderate.id}/review", headers=writing)
    ).status_code == 404
    refused = await client.post(f"/api/cases/{moderate.id}/review", headers=writing)
    assert refused.status_code == 409 and "not mitigated" in refused.json()["detail"]
    # A moderate case is not reviewed by itself once mitigated; it can be started by hand.
    await record_at(db, settings, moderate.id, Milestone.MITIGATED, T0 + timedelta(hours=50))
    assert (
        await client.get(f"/api/cases/{moderate.id}/review", headers=writing)
    ).status_code == 404
    started = await client.post(f"/api/cases/{moderate.id}/review", headers=writing)
    assert started.status_code == 201, started.text
    assert started.json()["state"] == "draft"
    again = await client.post(f"/api/cases/{moderate.id}/review", headers=writing)
    assert again.status_code == 201 and again.json()["started_at"] == started.json()["started_at"]

    case = moderate.id
    early = await client.post(f"/api/cases/{case}/review/submit", headers=writing)
    assert early.status_code == 409
    assert early.json()["missing"] == ["the impact", "what went well", "what went wrong"]
    assert (
        await client.put(
            f"/api/cases/{case}/review/sections", json={"impact": "x\x00"}, headers=writing
        )
    ).status_code == 422
    assert (
        await client.put(f"/api/cases/{case}/review/sections", json=SECTIONS, headers=outside)
    ).status_code == 403
    written = await client.put(f"/api/cases/{case}/review/sections", json=SECTIONS, headers=writing)
    assert written.status_code == 200 and written.json()["authors"] == [writer.email]
    submitted = await client.post(f"/api/cases/{case}/review/submit", headers=writing)
    assert submitted.status_code == 200 and submitted.json()["state"] == "in_review"
    frozen = await client.put(
        f"/api/cases/{case}/review/sections", json={**SECTIONS, "lucky": ""}, headers=writing
    )
    assert frozen.status_code == 409
    own = await client.post(
        f"/api/cases/{case}/review/decision", json={"approve": True}, headers=writing
    )
    assert own.status_code == 403 and own.json()["rule"] == "four_eyes"
    no_reason = await client.post(
        f"/api/cases/{case}/review/decision", json={"approve": False}, headers=approving
    )
    assert no_reason.status_code == 422
    returned = await client.post(
        f"/api/cases/{case}/review/decision",
        json={"approve": False, "comment": "Say how long the tokens lived."},
        headers=approving,
    )
    assert returned.json()["state"] == "draft"
    assert returned.json()["rejected_comment"] == "Say how long the tokens lived."
    await client.put(
        f"/api/cases/{case}/review/sections",
        json={**SECTIONS, "impact": SECTIONS["impact"] + " Tokens lived 24 hours."},
        headers=writing,
    )
    await client.post(f"/api/cases/{case}/review/submit", headers=writing)
    published = await client.post(
        f"/api/cases/{case}/review/decision", json={"approve": True}, headers=approving
    )
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["state"] == "published" and body["published_by"] == approver.email
    kept_at = body["record"]["generated_at"]
    # A milestone recorded after publication does not change the published record.
    await record_at(db, settings, case, Milestone.PUBLIC, T0 + timedelta(days=9))
    later = (await client.get(f"/api/cases/{case}/review", headers=reading)).json()
    assert later["record"]["generated_at"] == kept_at
    assert {d["key"]: d["hours"] for d in later["record"]["durations"]}["disclosure"] is None
    async with db.session() as session:
        review = await session.get(Review, case)
        assert review is not None and review.record is not None
    listed = (await client.get("/api/reviews?state=published", headers=reading)).json()
    assert [r["tracking_id"] for r in listed["items"]] == [moderate.tracking_id]


async def test_action_items_are_tracked_and_overdue_ones_reach_their_owner(
    client: httpx.AsyncClient,
    db: Database,
    make_user: MakeUser,
    script: Script,
) -> None:
    writer, owner = await make_user(Role.RESPONDER), await make_user(Role.ENGINEER)
    other = await make_user(Role.ENGINEER)
    customer = await make_user(Role.CUSTOMER)
    writing = bearer(await api_token(db, writer))
    owning = bearer(await api_token(db, owner))
    case = await script(MITIGATED)
    today = datetime.now(UTC).date()
    bad = [
        ({"title": "Rotate", "owner_id": customer.id, "due": str(today)}, "not active staff"),
        ({"title": "Rotate", "owner_id": owner.id, "due": "tomorrow"}, "due"),
        ({"title": "", "owner_id": owner.id, "due": str(today)}, "title"),
        ({"title": "Rotate", "owner_id": 2**63, "due": str(today)}, "owner_id"),
    ]
    for body, says in bad:
        answer = await client.post(
            f"/api/cases/{case.id}/review/action-items", json=body, headers=writing
        )
        assert answer.status_code == 422 and says in answer.text, answer.text
    late = await client.post(
        f"/api/cases/{case.id}/review/action-items",
        json={
            "title": "Shorten token lifetime",
            "owner_id": owner.id,
            "due": str(today - timedelta(days=3)),
            "tracker": "SEC-42",
        },
        headers=writing,
    )
    assert late.status_code == 201 and late.json()["overdue"] is True
    soon = await client.post(
        f"/api/cases/{case.id}/review/action-items",
        json={
            "title": "Alert on replayed tokens",
            "owner_id": owner.id,
            "due": str(today + timedelta(days=30)),
        },
        headers=writing,
    )
    assert soon.json()["overdue"] is False
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(ActionItem)) == 2

    queue = (await client.get("/api/queue", headers=owning)).json()
    [mine] = [s for s in queue["sections"] if s["key"] == "my_action_items"]
    assert mine["count"] == 2
    assert [(i["title"], i["tone"]) for i in mine["items"]] == [
        ("Shorten token lifetime", "bad"),
        ("Alert on replayed tokens", ""),
    ]
    assert "overdue" in mine["items"][0]["detail"]
    theirs = (await client.get("/api/queue", headers=bearer(await api_token(db, other)))).json()
    assert [s["count"] for s in theirs["sections"] if s["key"] == "my_action_items"] == [0]
    overdue = (await client.get("/api/action-items?overdue=true", headers=owning)).json()
    assert [i["title"] for i in overdue["items"]] == ["Shorten token lifetime"]
    program = (await client.get("/api/metrics?start=2026-01&end=2026-12", headers=owning)).json()
    assert program["action_items"] == {"open": 2, "overdue": 1, "done": 0}
    page = await client.get("/metrics?start=2026-01&end=2026-12", headers=owning)
    assert 'data-testid="overdue-count">1 overdue' in page.text
    assert "Shorten token lifetime" in page.text

    done = await client.post(f"/api/action-items/{late.json()['id']}/done", headers=owning)
    assert done.status_code == 200 and done.json()["done_by"] == owner.email
    twice = await client.post(f"/api/action-items/{late.json()['id']}/done", headers=owning)
    assert twice.status_code == 409
    queue = (await client.get("/api/queue", headers=owning)).json()
    assert [s["count"] for s in queue["sections"] if s["key"] == "my_action_items"] == [1]
    assert (await client.post("/api/action-items/999999/done", headers=owning)).status_code == 404


async def test_a_restricted_review_exists_only_for_its_team_and_tenants_stay_unnamed(
    client: httpx.AsyncClient,
    db: Database,
    make_user: MakeUser,
    script: Script,
    tiny_fleet: TinyFleet,
) -> None:
    owner, outsider = await make_user(Role.RESPONDER), await make_user(Role.RESPONDER)
    admin = await make_user(Role.ADMIN)
    team, other = bearer(await api_token(db, owner)), bearer(await api_token(db, outsider))
    secret = await script(MITIGATED, restricted=True, owner_id=owner.id, title="Secret replay")
    open_case = await script(MITIGATED, owner_id=owner.id, title="Open replay")
    for case in (secret, open_case):
        await advisory_with_feedback(
            db,
            case_id=case.id,
            tenants=tiny_fleet.tenants,
            sent_at=T0 + timedelta(hours=31),
            answers=[
                (
                    "Acme",
                    2,
                    "We heard too late, Acme's ops were paged by our SIEM.",
                    timedelta(hours=2),
                ),
                ("Globex", 5, "Clear and quick.", timedelta(hours=6)),
                ("Initech", 4, "", None),
            ],
        )
        async with db.session() as session:
            item = ActionItem(
                case_id=case.id,
                title="Rotate the signing keys",
                owner_id=owner.id,
                due=date(2026, 4, 1),
                created_by="test",
            )
            session.add(item)
            await session.commit()
    async with db.session() as session:
        secret_item = await session.scalar(
            select(ActionItem.id).where(ActionItem.case_id == secret.id)
        )
    team_view = (await client.get(f"/api/cases/{secret.id}/review", headers=team)).json()
    customers = team_view["record"]["customers"]
    assert customers["recipients"] == 3 and customers["acknowledged"] == 2
    assert customers["ratings"] == [0, 1, 0, 1, 1]
    assert abs(customers["average_rating"] - 11 / 3) < 1e-9
    assert customers["median_hours_to_acknowledge"] == 4.0
    assert {c["tenant"] for c in customers["comments"]} == {"Acme", "Globex"}

    for path in (
        f"/api/cases/{secret.id}/review",
        f"/api/cases/{secret.id}/review/export?format=md",
        f"/api/cases/{secret.id}/review/export?format=pdf",
        f"/cases/{secret.id}/review",
        f"/cases/{secret.id}/review.md",
        f"/cases/{secret.id}/review.pdf",
    ):
        answer = await client.get(path, headers=other)
        assert answer.status_code == 404, path
        assert "Acme" not in answer.text and "Secret replay" not in answer.text
    for path, body in (
        (f"/api/cases/{secret.id}/review/sections", None),
        (f"/api/action-items/{secret_item}/done", None),
        (f"/api/cases/{secret.id}/review/feedback", {"rating": 3}),
        (f"/api/cases/{secret.id}/review/decision", {"approve": True}),
    ):
        method = client.put if path.endswith("sections") else client.post
        answer = await method(path, json=body or dict(SECTIONS), headers=other)
        assert answer.status_code == 404, (path, answer.text)
    listed = (await client.get("/api/reviews", headers=other)).json()
    assert [r["title"] for r in listed["items"]] == ["Open replay"]
    mine = (await client.get("/api/action-items", headers=other)).json()
    assert mine["total"] == 1  # the open case's item only
    outsider_metrics = (
        await client.get("/api/metrics?start=2026-01&end=2026-12", headers=other)
    ).json()
    team_metrics = (await client.get("/api/metrics?start=2026-01&end=2026-12", headers=team)).json()
    assert (outsider_metrics["cases"], team_metrics["cases"]) == (1, 2)
    assert sum(m["count"] for m in outsider_metrics["satisfaction_by_month"]) == 3
    assert sum(m["count"] for m in team_metrics["satisfaction_by_month"]) == 6

    # The case that is not restricted: its review is there for everyone, its tenants named
    # only for its team (an administrator not on the team included), its customers' questions
    # counted for everyone and quoted to its team only.
    await conversation_at(
        db,
        case_id=open_case.id,
        tenant_id=tiny_fleet.tenants["Acme"],
        author_id=owner.id,
        messages=[(False, "Do our EU-west tokens need rotating?", T0 + timedelta(hours=33))],
    )
    for headers in (other, bearer(await api_token(db, admin))):
        seen = await client.get(f"/api/cases/{open_case.id}/review", headers=headers)
        assert seen.status_code == 200
        comments = seen.json()["record"]["customers"]["comments"]
        assert {c["tenant"] for c in comments} == {"customer 1", "customer 2"}
        assert seen.json()["names_tenants"] is False
        questions = seen.json()["record"]["customers"]["questions"]
        assert (questions["asked"], questions["answered"], questions["quoted"]) == (1, 0, [])
        for path in (f"/cases/{open_case.id}/review", f"/cases/{open_case.id}/review.md"):
            text = (await client.get(path, headers=headers)).text
            assert "Globex" not in text and "Acme's ops" in text.replace("&#39;", "'")
            assert "EU-west tokens" not in text
    named = (await client.get(f"/api/cases/{open_case.id}/review", headers=team)).json()
    assert {c["tenant"] for c in named["record"]["customers"]["comments"]} == {"Acme", "Globex"}
    [quoted] = named["record"]["customers"]["questions"]["quoted"]
    assert quoted["tenant"] == "Acme" and quoted["answered_at"] is None
    assert "EU-west tokens" in quoted["body"]


async def test_the_team_is_asked_for_feedback_by_email_and_answers(
    mail_client: httpx.AsyncClient,
    db: Database,
    mail_settings: Settings,
    smtp_server: tuple[SmtpSink, int],
    make_user: MakeUser,
) -> None:
    owner, member = await make_user(Role.RESPONDER), await make_user(Role.ENGINEER)
    outsider = await make_user(Role.RESPONDER)
    async with db.session() as session:
        case = await cases.open_case(
            session,
            title="Replay",
            summary="",
            services=["storage"],
            actor="test",
            settings=mail_settings,
            owner_id=owner.id,
            started_at=T0,
            now=T0,
        )
        case.rating = "critical"
        session.add(CaseMember(case_id=case.id, user_id=member.id, added_by="test"))
        await session.commit()
    await record_at(db, mail_settings, case.id, Milestone.MITIGATED, T0 + timedelta(hours=20))
    async with db.session() as session:
        asked = set(
            await session.scalars(
                select(OutboundEmail.to_address).where(OutboundEmail.kind == "review.feedback")
            )
        )
    assert asked == {owner.email, member.email}
    sink, _ = smtp_server

    async def delivered() -> bool:
        return len(sink.messages) >= 2

    await run_jobs_until(db, mail_settings, delivered, within=30)
    message = next(m for m in sink.messages if m["To"] == member.email)
    assert message["Subject"] == f"How did the response to {case.tracking_id} go?"
    assert f"/cases/{case.id}/review#my-feedback" in message.get_content()

    answer = await mail_client.post(
        f"/api/cases/{case.id}/review/feedback",
        json={"rating": 4, "comment": "The runbook was out of date."},
        headers=bearer(await api_token(db, member)),
    )
    assert answer.status_code == 200, answer.text
    mine = next(r for r in answer.json()["responders"] if r["user_id"] == member.id)
    assert (mine["rating"], mine["comment"]) == (4, "The runbook was out of date.")
    not_asked = await mail_client.post(
        f"/api/cases/{case.id}/review/feedback",
        json={"rating": 1},
        headers=bearer(await api_token(db, outsider)),
    )
    assert not_asked.status_code == 403 and "asked" in not_asked.json()["detail"]
    too_high = await mail_client.post(
        f"/api/cases/{case.id}/review/feedback",
        json={"rating": 6},
        headers=bearer(await api_token(db, member)),
    )
    assert too_high.status_code == 422
    async with db.session() as session:
        kept = await session.get(ResponderFeedback, (case.id, member.id))
        assert kept is not None and kept.rating == 4
