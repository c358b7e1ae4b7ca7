from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from helpers import PASSWORD, MakeUser
from vulnops.auth.roles import Role

pytestmark = pytest.mark.browser


async def _sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_an_admin_signs_in_sees_their_navigation_and_signs_out(
    page: Page, live_server: str, make_user: MakeUser
) -> None:
    admin = await make_user(Role.ADMIN)
    await _sign_in(page, live_server, admin.email)
    await expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Users")).to_be_visible()
    await expect(nav.get_by_role("link", name="Audit log")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_text("You are signed out.")).to_be_visible()
    await page.goto(f"{live_server}/admin/users")
    await expect(page).to_have_url(f"{live_server}/login?next=/admin/users")


async def test_a_researcher_sees_only_their_own_navigation(
    page: Page, live_server: str, make_user: MakeUser
) -> None:
    researcher = await make_user(Role.RESEARCHER)
    await _sign_in(page, live_server, researcher.email)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="API tokens")).to_be_visible()
    await expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    await expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)


async def test_a_wrong_password_shows_an_error(
    page: Page, live_server: str, make_user: MakeUser
) -> None:
    user = await make_user(Role.ENGINEER)
    await page.goto(f"{live_server}/login")
    await page.get_by_label("Email").fill(user.email)
    await page.get_by_label("Password").fill("not the right one")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
