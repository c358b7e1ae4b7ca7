from __future__ import annotations

from datetime import UTC, datetime

import procrastinate

from vulnops.jobcontext import job_database, job_settings
from vulnops.mail import sender
from vulnops.mail.models import OutboundEmail

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="send_email",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=5),
)
async def send_email(context: procrastinate.JobContext, email_id: int) -> None:
    settings = job_settings(context)
    async with job_database(context).session() as session:
        email = await session.get(OutboundEmail, email_id, with_for_update=True)
        if email is None or email.status == "sent":
            return
        email.attempts += 1
        try:
            await sender.send(
                settings,
                sender.build_message(
                    settings=settings, to=email.to_address, subject=email.subject, body=email.body
                ),
            )
        except Exception as error:
            email.last_error = f"{type(error).__name__}: {error}"
            await session.commit()
            raise
        email.status, email.sent_at, email.last_error = "sent", datetime.now(UTC), None
        await session.commit()
