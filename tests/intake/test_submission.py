"""What a submission does at once and what it leaves to a job: the answer is the report as it is
stored, and the acknowledgment email is a job of the submission's transaction, queued once."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select, text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.intake import notices
from vulnops.intake.models import Report
from vulnops.mail.models import OutboundEmail
from vulnops.settings import Settings

REPORT = {
    "title": "Stored XSS in the support ticket subject",
    "description": "A `<script>` in the subject runs for the agent.",
    "service": "Support",
    "endpoint": "POST /api/v1/tickets",
    "credit_name": "grace",
}


async def test_the_answer_to_a_submission_is_the_report_as_stored(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    headers = bearer(await api_token(db, await make_user(Role.PARTNER)))
    submitted = await client.post("/api/reports", json=REPORT, headers=headers)
    assert submitted.status_code == 201
    stored = await client.get(f"/api/reports/{submitted.json()['id']}", headers=headers)
    assert submitted.json() == stored.json()
    assert submitted.json()["source"] == "partner"
    assert [change["state"] for change in submitted.json()["history"]] == ["new"]


async def test_the_acknowledgment_is_a_job_of_the_submission_and_queued_once(
    mail_client: httpx.AsyncClient, make_user: MakeUser, db: Database, mail_settings: Settings
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    submitted = await mail_client.post(
        "/api/reports", json=REPORT, headers=bearer(await api_token(db, researcher))
    )
    async with db.session() as session:
        jobs = (
            await session.execute(
                text("SELECT task_name, args FROM procrastinate_jobs ORDER BY id")
            )
        ).all()
        assert [(name, args) for name, args in jobs] == [
            ("intake:acknowledge", {"report_id": submitted.json()["id"]})
        ]
        assert await session.scalar(select(func.count()).select_from(OutboundEmail)) == 0

        # The job, run twice (a worker died before it could mark it done): one email.
        report = await session.get(Report, submitted.json()["id"])
        assert report is not None
        for _ in range(2):
            await notices.acknowledge_receipt(session, settings=mail_settings, report=report)
            await session.commit()
        emails = list(await session.scalars(select(OutboundEmail)))
    assert [(email.to_address, email.kind) for email in emails] == [
        (researcher.email, "report.acknowledgment")
    ]
    assert submitted.json()["tracking_id"] in emails[0].subject
