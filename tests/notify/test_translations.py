"""An advisory version in the tenants' languages: drafted per language, approved by a second
person, checked to render, carried by the deliveries of the tenants who read it, shown in their
portal beside the original; and every bad input refused with nothing written."""

from __future__ import annotations

from typing import Any

import httpx
from notify_world import World, draft
from sqlalchemy import text

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database

FRENCH = {
    "title": "Les métadonnées des compartiments pouvaient être lues entre clients",
    "summary": "Une requête forgée pouvait lister les noms des compartiments d'un autre client.",
    "body": (
        "**{{ tlp }}** — pour {{ tenant.name }}.\n\n## Ce qui s'est passé\n{{ summary }}\n\n"
        "## Vos ressources\n{% for r in resources %}- {{ r.external_id }}\n{% endfor %}\n"
        "## État\n{{ mitigation }}\n"
    ),
}


async def _language_of(db: Database, key: str, language: str) -> None:
    async with db.session() as session:
        await session.execute(
            text("UPDATE tenants SET language = :language WHERE key = :key"),
            {"language": language, "key": key},
        )
        await session.commit()


async def _carried(db: Database) -> dict[str, str | None]:
    """Tenant key -> the language its first messages carried."""
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT DISTINCT t.key, d.language FROM deliveries d "
                "JOIN tenants t ON t.id = d.tenant_id WHERE d.reminder = 0"
            )
        )
        return dict(rows.tuples().all())


async def test_a_translation_is_approved_like_the_original_and_reaches_its_readers(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    await _language_of(db, "acme", "fr-CA")  # reads the fr translation: its primary language
    writer = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    url = f"/api/cases/{world.case_id}/advisory"
    assert (await client.put(url, json=draft(), headers=writer)).status_code == 200
    assert (await client.post(f"{url}/approve", headers=approver)).status_code == 200

    saved = await client.put(f"{url}/translations/fr", json=FRENCH, headers=writer)
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "draft" and saved.json()["note"] is None

    # Bad input: each a 422 that says what is wrong, the saved translation untouched.
    for language, body, said in (
        ("en_US", FRENCH, "is not a BCP 47 language tag"),
        ("en-GB", FRENCH, "the original is in en"),
        ("fr", {**FRENCH, "body": "{{ nope }}"}, "the fr translation does not render"),
        ("fr", {**FRENCH, "title": ""}, "title"),
    ):
        refused = await client.put(f"{url}/translations/{language}", json=body, headers=writer)
        assert refused.status_code == 422 and said in refused.text, (language, refused.text)
    shown = (await client.get(url, headers=writer)).json()["versions"][0]["translations"]
    assert [(t["language"], t["title"]) for t in shown] == [("fr", FRENCH["title"])]

    # The staff's preview shows each tenant what it would get, the draft translation included.
    preview = f"{url}/preview"
    french = (await client.get(preview, params={"tenant": "acme"}, headers=writer)).json()
    assert french["language"] == "fr" and "## Ce qui s'est passé" in french["text"]
    # acme's buckets are still exposed (the case was mitigated with no rollout).
    assert "Le correctif est en cours de déploiement : 0 des 3 ressources" in french["text"]
    original = (await client.get(preview, params={"tenant": "globex"}, headers=writer)).json()
    assert original["language"] is None and "## What happened" in original["text"]

    # A language nobody of the audience reads: kept, with a note; then removed.
    german = await client.put(f"{url}/translations/de", json=FRENCH, headers=writer)
    assert (
        german.status_code == 200
        and "no tenant of this advisory's audience reads de" in (german.json()["note"])
    )
    assert (await client.delete(f"{url}/translations/de", headers=writer)).status_code == 204

    # A translation waiting for approval stops the send; nothing is written.
    waiting = await client.post(f"{url}/send", headers=writer)
    assert waiting.status_code == 409 and "the fr translation waits for approval" in waiting.text
    assert await _carried(db) == {}

    # Four eyes: its author may not approve it; another person may.
    own = await client.post(f"{url}/translations/fr/approve", headers=writer)
    assert own.status_code == 403 and "four eyes" in own.text
    approved = await client.post(f"{url}/translations/fr/approve", headers=approver)
    assert approved.status_code == 200 and approved.json()["approved_by"]

    sent = await client.post(f"{url}/send", headers=writer)
    assert sent.status_code == 200, sent.text
    assert sent.json()["languages"] == {"": 3, "fr": 1}
    assert await _carried(db) == {"acme": "fr", "globex": None, "initech": None, "umbrella": None}
    assert (await client.get(url, headers=writer)).json()["versions"][0]["languages"] == {
        "": 3,
        "fr": 1,
    }
    # A sent version's translations are kept as they were sent.
    late = await client.put(f"{url}/translations/fr", json=FRENCH, headers=writer)
    assert late.status_code == 409 and "write the next version" in late.text

    # Each tenant reads what it was sent: acme the French text, with the original beside it.
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    globex = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="globex")))
    advisory = (await client.get(url, headers=writer)).json()["id"]
    french = (await client.get(f"/api/advisories/{advisory}", headers=acme)).json()["versions"][0]
    assert french["language"] == "fr" and french["title"] == FRENCH["title"]
    assert "## Ce qui s'est passé" in french["text"] and "acme-bucket-0" in french["text"]
    # The status line the template prints comes from the catalogs, in the translation's language.
    assert "Le correctif est en cours de déploiement : 0 des 3 ressources" in french["text"]
    page = (await client.get(f"/advisories/{advisory}", headers=acme)).text
    assert 'data-testid="advisory-original"' in page and "What happened" in page
    listed = (await client.get("/api/advisories", headers=acme)).json()["items"]
    assert [a["title"] for a in listed] == [FRENCH["title"]]  # its list, in French too
    english = (await client.get(f"/api/advisories/{advisory}", headers=globex)).json()
    assert english["versions"][0]["language"] is None
    assert "## What happened" in english["versions"][0]["text"]
    other = (await client.get(f"/advisories/{advisory}", headers=globex)).text
    assert 'data-testid="advisory-original"' not in other


async def test_a_translation_that_fails_for_a_real_tenant_stops_the_send(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    """It renders for the made-up tenant it is checked against when saved, not for acme: the
    send refuses, and no delivery is written."""
    world: World = await make_world()
    await _language_of(db, "acme", "fr")
    writer = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    url = f"/api/cases/{world.case_id}/advisory"
    await client.put(url, json=draft(), headers=writer)
    await client.post(f"{url}/approve", headers=approver)
    fragile = {**FRENCH, "body": "{% if tenant.key != 'example' %}{{ 1 // 0 }}{% endif %}"}
    assert (
        await client.put(f"{url}/translations/fr", json=fragile, headers=writer)
    ).status_code == 200
    await client.post(f"{url}/translations/fr/approve", headers=approver)

    refused = await client.post(f"{url}/send", headers=writer)
    assert refused.status_code == 422
    assert "the fr translation does not render for tenant acme" in refused.text
    assert await _carried(db) == {}
    assert (await client.get(url, headers=writer)).json()["versions"][0]["status"] == "approved"


async def test_changing_the_original_asks_for_its_translations_approval_again(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser, make_world: Any
) -> None:
    world: World = await make_world()
    writer = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    approver = bearer(await api_token(db, await make_user(Role.COMMUNICATIONS)))
    url = f"/api/cases/{world.case_id}/advisory"
    await client.put(url, json=draft(), headers=writer)
    await client.put(f"{url}/translations/fr", json=FRENCH, headers=writer)
    await client.post(f"{url}/translations/fr/approve", headers=approver)
    assert (await client.get(url, headers=writer)).json()["versions"][0]["translations"][0][
        "status"
    ] == "approved"

    await client.put(url, json=draft(title="Bucket names could be listed"), headers=writer)
    version = (await client.get(url, headers=writer)).json()["versions"][0]
    assert version["translations"][0]["status"] == "draft"
    rejected = await client.post(
        f"{url}/translations/fr/reject", json={"comment": "say 'lister'"}, headers=approver
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "draft"
