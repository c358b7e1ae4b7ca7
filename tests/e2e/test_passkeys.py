"""Passkeys in a real browser: Chromium's virtual authenticator (the DevTools WebAuthn domain)
makes and uses a real credential; the server checks it with the ``webauthn`` package. WebAuthn
does not take an IP address as relying party, so the app is reached as ``localhost``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select, update

from helpers import PASSWORD, MakeUser, free_port, serving_app
from vulnops.auth.models import SecondFactor, User
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.settings import Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def localhost(settings: Settings) -> Iterator[str]:
    port = free_port()
    base = f"http://localhost:{port}"
    with serving_app(settings.model_copy(update={"public_url": base}), port=port):
        yield base


@pytest.fixture
async def keyed(browser: Browser) -> AsyncIterator[Page]:
    """A page with a virtual platform authenticator that verifies its user."""
    context = await browser.new_context()
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    yield page
    await context.close()


async def _password(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def _with_passkey(page: Page, base: str, user: User) -> None:
    await _password(page, base, user.email)
    await page.goto(f"{base}/account/security")
    await page.get_by_label("Name").last.fill("Laptop")
    await page.get_by_test_id("add-passkey-button").click()
    await expect(page.locator("#passkey-status")).to_contain_text("Passkey added")
    await page.get_by_role("button", name="Sign out").click()


async def test_a_passkey_is_added_and_then_signs_in_as_the_second_step(
    keyed: Page, localhost: str, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.RESEARCHER)
    await _with_passkey(keyed, localhost, user)
    async with db.session() as session:
        [factor] = list(await session.scalars(select(SecondFactor)))
    assert (factor.kind, factor.name) == ("passkey", "Laptop")
    first_count = factor.sign_count

    await _password(keyed, localhost, user.email)
    await expect(keyed).to_have_url(f"{localhost}/login/second-factor")
    await keyed.get_by_test_id("use-passkey").click()
    await expect(keyed.get_by_role("heading", name="Welcome")).to_be_visible()
    async with db.session() as session:
        used = await session.get(SecondFactor, factor.id)
        assert used is not None
    assert used.last_used_at is not None and used.sign_count > first_count


async def test_a_replayed_answer_and_a_counter_that_did_not_grow_are_refused(
    keyed: Page, localhost: str, make_user: MakeUser, db: Database
) -> None:
    user = await make_user(Role.RESEARCHER)
    await _with_passkey(keyed, localhost, user)
    answers: list[dict[str, Any]] = []

    async def keep(route: Any) -> None:
        answers.append(json.loads(route.request.post_data))
        await route.continue_()

    await keyed.route("**/login/second-factor/passkey", keep)
    await _password(keyed, localhost, user.email)
    await keyed.get_by_test_id("use-passkey").click()
    await expect(keyed.get_by_role("heading", name="Welcome")).to_be_visible()
    await keyed.unroute("**/login/second-factor/passkey")
    await keyed.get_by_role("button", name="Sign out").click()

    # The same answer again, in a new sign-in: its challenge is not this one's.
    await _password(keyed, localhost, user.email)
    replay = await keyed.evaluate(
        """async (body) => {
            const headers = {
                'x-csrftoken': document.querySelector('input[name="csrftoken"]').value,
                'content-type': 'application/json',
                accept: 'application/json',
            };
            const url = '/login/second-factor/passkey';
            await fetch(url + '/options', {method: 'POST', headers, body: '{}'});
            const r = await fetch(url, {method: 'POST', headers, body: JSON.stringify(body)});
            return [r.status, await r.text()];
        }""",
        answers[0],
    )
    assert replay[0] == 401 and "refused" in replay[1], replay

    # A stored counter ahead of the authenticator's: a cloned key, refused.
    async with db.session() as session:
        await session.execute(update(SecondFactor).values(sign_count=10_000))
        await session.commit()
    await keyed.reload()
    await keyed.get_by_test_id("use-passkey").click()
    await expect(keyed.locator("#passkey-error")).to_contain_text("sign count")
    await expect(keyed).to_have_url(f"{localhost}/login/second-factor")


async def test_an_answer_for_another_origin_is_refused(
    keyed: Page, localhost: str, make_user: MakeUser, settings: Settings, db: Database
) -> None:
    """The server expects the public URL's origin; the browser at localhost is another one
    when the public URL names a different port."""
    user = await make_user(Role.RESEARCHER)
    await _with_passkey(keyed, localhost, user)
    port = free_port()
    elsewhere = f"http://localhost:{port}"
    moved = settings.model_copy(update={"public_url": f"http://localhost:{port + 1}"})
    with serving_app(moved, port=port):
        await _password(keyed, elsewhere, user.email)
        await keyed.get_by_test_id("use-passkey").click()
        await expect(keyed.locator("#passkey-error")).to_contain_text("origin")
