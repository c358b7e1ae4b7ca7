"""A tenant's language (BCP 47) and time zone (IANA): set by its administrators from the
portal and the API, normalized, and refused whole when either is not what it claims to be."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from helpers import MakeUser, api_token, bearer
from vulnops.auth.roles import Role
from vulnops.db.database import Database
from vulnops.errors import Invalid
from vulnops.i18n import when
from vulnops.tenants import preferences

URL = "/api/tenant/preferences"


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("en", "en"),
        ("fr", "fr"),
        ("fr-ca", "fr-CA"),
        ("pt-BR", "pt-BR"),
        ("zh-Hant-TW", "zh-Hant-TW"),
    ],
)
def test_a_bcp_47_tag_is_kept_in_its_normal_form(given: str, normal: str) -> None:
    assert preferences.language_tag(given) == normal


@pytest.mark.parametrize("given", ["", "french", "en_US", "e", "fr-", "12", "x" * 36])
def test_what_is_not_a_bcp_47_tag_is_refused_saying_so(given: str) -> None:
    with pytest.raises(Invalid, match="not a BCP 47 language tag"):
        preferences.language_tag(given)


def test_dates_are_shown_on_the_tenant_s_clock() -> None:
    noon = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert when(noon) == when(noon, "UTC") == "2026-12-01 12:00 UTC"
    assert when(noon, "Europe/Paris") == "2026-12-01 13:00 CET"
    assert when(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/Paris") == "2026-07-01 14:00 CEST"
    assert when(noon, "America/Montreal") == "2026-12-01 07:00 EST"
    assert when(None, "Europe/Paris") == "—"


async def test_the_administrators_set_their_tenant_s_language_and_time_zone(
    client: httpx.AsyncClient, db: Database, make_user: MakeUser
) -> None:
    acme = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="acme")))
    other = bearer(await api_token(db, await make_user(Role.CUSTOMER, tenant_key="globex")))
    assert (await client.get(URL, headers=acme)).json() == {"language": "en", "time_zone": "UTC"}

    saved = await client.put(
        URL, json={"language": "fr-ca", "time_zone": "America/Montreal"}, headers=acme
    )
    assert saved.status_code == 200
    assert saved.json() == {"language": "fr-CA", "time_zone": "America/Montreal"}
    # Each bad half refuses the whole: nothing is written.
    for body, field in (
        ({"language": "french", "time_zone": "Europe/Paris"}, "language"),
        ({"language": "fr", "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"language": "fr", "time_zone": "../../etc/passwd"}, "time_zone"),
        ({"language": "fr"}, "time_zone"),
    ):
        refused = await client.put(URL, json=body, headers=acme)
        assert refused.status_code == 422 and field in refused.text, body
    assert (await client.get(URL, headers=acme)).json()["language"] == "fr-CA"
    assert (await client.get(URL, headers=other)).json() == {"language": "en", "time_zone": "UTC"}

    posted = await client.post(
        "/advisories/settings/preferences",
        data={"language": "fr", "time_zone": "Europe/Paris"},
        headers=acme,
    )
    assert posted.status_code == 303
    page = (await client.get("/advisories/settings", headers=acme)).text
    assert 'value="fr"' in page and 'value="Europe/Paris"' in page
    staff = bearer(await api_token(db, await make_user(Role.RESPONDER)))
    assert (await client.get(URL, headers=staff)).status_code == 403
