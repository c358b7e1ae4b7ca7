"""The demo's root cause and variants: the storage SSRF case gets its root-cause analysis and two
structural improvements (one done), the storage and identity services get small source
repositories (written into the data directory, as an operator's checkouts would be), and a code
hunt over them finishes: the reported importer is a duplicate of the case, the webhook preview
is a confirmed variant (a case of its own), and a developer's tool in identity is not a problem. The
class CWE-918 stays open: its cases are not fixed yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vulnops.auth import service as users
from vulnops.cases import service as cases
from vulnops.fleet import repositories
from vulnops.settings import get_settings
from vulnops.variants import hunts, rootcause, running, triage
from vulnops.variants.models import Finding
from vulnops.variants.schemas import DecisionIn, HuntIn, RootCauseIn

if TYPE_CHECKING:
    from vulnops.demo import DemoContext

RULE = """\
rules:
- id: ssrf-user-controlled-url
  languages: [python]
  severity: ERROR
  message: >-
    A URL from the request is fetched server-side without the egress allow-list
    (CWE-918): route it through fetch_allowed().
  patterns:
  - pattern-either:
    - pattern: requests.$METHOD($BODY.get("url"), ...)
    - pattern: requests.$METHOD($BODY["url"], ...)
    - pattern: requests.$METHOD($BODY.get("callback_url"), ...)
"""

FILES = {
    "storage/images/importer.py": '''"""Image import: fetch and store."""
import requests


def import_image(body):
    response = requests.get(body["url"], timeout=30)
    return store(response.content)


def store(data):
    return len(data)
''',
    "storage/webhooks/preview.py": '''"""A webhook's preview."""
import requests


def preview(body):
    answer = requests.post(body.get("callback_url"), json={"ping": True}, timeout=5)
    return answer.status_code
''',
    "storage/images/resize.py": '''"""Resizing never fetches anything."""


def resize(image, width):
    return image[:width]
''',
    "identity/federation/metadata.py": '''"""SAML metadata, from its registered address."""
import requests

REGISTERED = {"contoso": "https://login.contoso.example/metadata.xml"}


def refresh(body):
    return requests.get(REGISTERED[body["federation"]], timeout=30)
''',
    "identity/devtools/replay.py": '''"""A developer's tool: replay a captured login."""
import requests


def replay(capture):
    return requests.post(capture["url"], data=capture["form"], timeout=5)
''',
}


def _write(root: Path) -> dict[str, Path]:
    for relative, content in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return {"storage": root / "storage", "identity": root / "identity"}


async def seed_variants(session: AsyncSession, context: DemoContext) -> None:
    settings = get_settings()
    found = await cases.list_cases(
        session, viewer=None, now=context.now, search="SSRF image importer"
    )
    if not found.items or context.database is None:
        return
    case = found.items[0]
    engineer = await users.get_user_by_email(session, email="engineer@vulnops.example")
    actor = engineer.email
    roots = _write(settings.data_dir / "demo-repositories")
    for key, path in roots.items():
        await repositories.replace(session, service_key=key, locations=[str(path)], actor=actor)
    await rootcause.record(
        session,
        case_id=case.id,
        given=RootCauseIn(
            cwe_id=918,
            introduced_repository=str(roots["storage"]),
            introduced_ref="storage 2026.09.2 (commit 4f1c2ab: import images by URL)",
            cause="The image importer fetched whatever URL the request named, from a worker "
            "whose network reaches the instance metadata service; nothing checked the "
            "address the name resolved to.",
            found_how="An external researcher reported it through the bug bounty, with the "
            "worker's credentials as proof.",
            found_earlier="A Semgrep rule for request-controlled URLs in CI; a test that the "
            "workers cannot reach 169.254.169.254.",
            detection_ideas="Alert on any request from a worker to the metadata address; log "
            "the resolved address of every server-side fetch.",
        ),
        actor=actor,
        now=context.now,
    )
    today = context.now.date()
    for action, due, done in (
        ("Add the SSRF rule to the CI of every Python service", today - timedelta(days=3), True),
        (
            "Send all server-side fetches through the egress proxy with an allow-list",
            today + timedelta(days=30),
            False,
        ),
    ):
        improvement = await rootcause.add_improvement(
            session, case_id=case.id, action=action, owner_id=engineer.id, due=due, actor=actor
        )
        if done:
            await rootcause.complete_improvement(
                session, improvement_id=improvement.id, actor=actor, now=context.now
            )
    hunt = await hunts.start(
        session,
        case_id=case.id,
        given=HuntIn(strategy="code", rule=RULE),
        actor=actor,
        settings=settings,
    )
    await session.commit()
    if await running.run(context.database, hunt_id=hunt.id, settings=settings) != "finished":
        return
    principal = users.principal_of(engineer, via="session")
    for finding in await session.scalars(
        select(Finding).where(Finding.hunt_id == hunt.id).order_by(Finding.location)
    ):
        if "importer.py" in finding.location:
            decision = DecisionIn(
                decision="duplicate",
                duplicate_of=case.id,
                one_fix_fixes_both=True,
                reason="The reported bug itself.",
            )
        elif "preview.py" in finding.location:
            decision = DecisionIn(
                decision="variant",
                reason="The webhook preview posts to any callback URL: the same missing "
                "allow-list, a different fetch; the importer's fix would not have fixed it.",
            )
        else:
            decision = DecisionIn(
                decision="not_a_problem",
                reason="A developer's tool against a local fake; it is not deployed.",
            )
        await triage.decide(
            session,
            finding_id=finding.id,
            given=decision,
            principal=principal,
            settings=settings,
            now=datetime.now(UTC),
        )
