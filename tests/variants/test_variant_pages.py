"""The pages: the Root cause tab saves the analysis through its form and shows the weakness's
line in CWE-1000; a hunt started from the form lands on its page; a rule Semgrep cannot read
comes back to the form with Semgrep's message; the classes page draws its plot; a restricted
case's hunt and tab are not there for staff off its team; the service page lists its source
repositories."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from helpers import MakeUser, csrf, sign_in
from variants.conftest import SSRF_RULE, Opener, make_repositories
from vulnops.auth.roles import Role


async def test_the_root_cause_tab_the_hunt_form_and_the_classes_page(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    services: dict[str, int],
    open_case: Opener,
    tmp_path: Path,
) -> None:
    engineer = await make_user(Role.ENGINEER)
    case_id = await open_case()
    await sign_in(client, engineer.email)
    tab = await client.get(f"/cases/{case_id}/root-cause")
    assert tab.status_code == 200
    assert 'data-testid="ancestors"' in tab.text and "CWE-664" in tab.text
    token = await csrf(client, f"/cases/{case_id}/root-cause")
    saved = await client.post(
        f"/cases/{case_id}/root-cause",
        data={
            "csrftoken": token,
            "cwe_id": "918",
            "cause": "Any URL was fetched.",
            "introduced_ref": "v2.3.0",
        },
    )
    assert saved.status_code == 303
    assert "Any URL was fetched." in (await client.get(f"/cases/{case_id}/root-cause")).text

    repos = make_repositories(tmp_path)
    service_page = await client.get("/fleet/services/storage")
    assert (
        'data-testid="repositories"' in service_page.text and "None registered" in service_page.text
    )
    registered = await client.post(
        "/fleet/services/storage/repositories",
        data={"csrftoken": token, "locations": str(repos["storage"])},
    )
    assert registered.status_code == 303
    assert str(repos["storage"]) in (await client.get("/fleet/services/storage")).text

    here = {"referer": f"http://testserver/cases/{case_id}/root-cause"}
    broken = await client.post(
        f"/cases/{case_id}/hunts",
        data={"csrftoken": token, "strategy": "code", "rule": "rules: [\n"},
        headers=here,
    )
    assert (
        broken.status_code == 303 and broken.headers["location"] == f"/cases/{case_id}/root-cause"
    )
    back = await client.get(broken.headers["location"])
    assert "Semgrep cannot use it" in back.text and "Invalid YAML" in back.text
    started = await client.post(
        f"/cases/{case_id}/hunts",
        data={"csrftoken": token, "strategy": "code", "rule": SSRF_RULE},
        files={"sarif": ("", b"", "application/octet-stream")},
        headers=here,
    )
    assert started.status_code == 303, started.text
    assert re.fullmatch(r"/hunts/\d+", started.headers["location"])
    hunt = await client.get(started.headers["location"])
    assert hunt.status_code == 200 and 'data-testid="hunt-progress"' in hunt.text
    assert 'http-equiv="refresh"' in hunt.text  # queued: the page follows it

    classes = await client.get("/classes")
    assert classes.status_code == 200 and "<svg" in classes.text
    assert "CWE-918" in classes.text and "Server-Side Request Forgery" in classes.text
    by_time = await client.get("/classes?order=time")
    assert "Median days from report to mitigation" in by_time.text
    assert (await client.get("/classes?order=soon")).status_code == 422
    one = await client.get("/classes/918")
    assert one.status_code == 200 and 'data-testid="class-state">open' in one.text


async def test_a_restricted_cases_hunt_is_not_there_for_outsiders(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    services: dict[str, int],
    open_case: Opener,
) -> None:
    owner = await make_user(Role.RESPONDER)
    outsider = await make_user(Role.ENGINEER)
    case_id = await open_case(restricted=True, owner_id=owner.id)
    await sign_in(client, owner.email)
    token = await csrf(client, f"/cases/{case_id}/root-cause")
    started = await client.post(
        f"/cases/{case_id}/hunts", data={"csrftoken": token, "strategy": "history"}
    )
    assert started.status_code == 303, started.text
    hunt_page = started.headers["location"]
    assert (await client.get(hunt_page)).status_code == 200
    client.cookies.clear()
    await sign_in(client, outsider.email)
    for path in (hunt_page, f"/cases/{case_id}/root-cause", f"/api{hunt_page}"):
        assert (await client.get(path)).status_code == 404, path
    assert "SSRF in the image importer" not in (await client.get("/classes/918")).text
