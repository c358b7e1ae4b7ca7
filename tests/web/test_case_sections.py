"""A case page shows a section only when the API behind that section answers the caller: for
every role, what the page shows is compared with what the APIs say (a release manager saw the
advisory's titles and delivery counts while the advisory API answered 403)."""

from __future__ import annotations

import re

import httpx
import pytest

from helpers import MakeUser, api_token, bearer, sign_in
from vulnops.auth.roles import ROLE_PERMISSIONS, Permission, Role
from vulnops.casefile.sections import SECTION_APIS
from vulnops.db.database import Database

CASE_READERS = [role for role in Role if Permission.CASES_READ in ROLE_PERMISSIONS[role]]
# Shown only when there is something in it; every other readable section is always shown.
SHOWN_WHEN_NOT_EMPTY = {"approvals"}


@pytest.mark.parametrize("role", CASE_READERS)
async def test_a_case_page_shows_exactly_the_sections_whose_api_answers_the_role(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, role: Role
) -> None:
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    case = (await client.post("/api/cases", json={"title": "Sections"}, headers=responder)).json()
    user = await make_user(role)
    token = bearer(await api_token(db, user))
    await sign_in(client, user.email)
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    shown = set(re.findall(r'data-section="([a-z]+)"', page.text))
    answers = {
        name: (await client.get(path.format(case_id=case["id"]), headers=token)).status_code
        for name, path in SECTION_APIS.items()
    }
    assert all(status in {200, 403, 404} for status in answers.values()), answers
    readable = {name for name, status in answers.items() if status != 403}
    assert shown <= readable
    assert readable - SHOWN_WHEN_NOT_EMPTY <= shown


async def test_a_release_manager_sees_no_advisory_on_the_case_page(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    responder = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    case = (
        await client.post("/api/cases", json={"title": "No advisory"}, headers=responder)
    ).json()
    manager = await make_user(Role.RELEASE_MANAGER)
    await sign_in(client, manager.email)
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    assert 'data-section="advisory"' not in page.text
    assert 'data-section="fixes"' in page.text
    advisory_api = await client.get(
        f"/api/cases/{case['id']}/advisory", headers=bearer(await api_token(db, manager))
    )
    assert advisory_api.status_code == 403
