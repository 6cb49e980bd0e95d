"""A database made before the built-in instruments shipped translations gets them on start:
added to a stored built-in version that is otherwise exactly as shipped, never to one that
differs, never to an organization's own instrument. SQLite and MongoDB (mongomock-ng)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace

import pytest

import survey_api
from shared import ids
from shared.instruments import builtin_instruments, install_builtin
from shared.storage import Organization, open_store, utc_now

from tests.conftest import Tenant


def _english_only(instrument):
    definition = {k: v for k, v in instrument.definition.items()
                  if k not in ("languages", "translations")}
    return replace(instrument, definition=definition)


@pytest.fixture(params=["sqlite", "mongomock"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/old.db"
    return f"mongomock://localhost/old_{uuid.uuid4().hex[:8]}"


def test_stored_english_only_built_ins_get_the_shipped_translations(store_url):
    store = open_store(store_url)
    store.initialize()
    shipped = {(i.id, i.version): i for i in builtin_instruments()}
    translated = {key for key, i in shipped.items() if i.definition.get("translations")}
    assert ("how-you-buy", 2) in translated and ("how-we-sell", 1) in translated
    for instrument in shipped.values():  # as an install from before translations stored them
        store.instruments.add(_english_only(instrument))
    # A built-in whose stored questions differ from the shipped ones (edited by hand, say):
    # adding translations written for other texts would be wrong, so it is left alone.
    edited = copy.deepcopy(_english_only(shipped["how-we-sell", 1]).definition)
    edited["sections"][0]["questions"][0]["text"] = "A question asked differently"
    store.instruments.replace_builtin_definition("how-we-sell", 1, edited)
    # An organization's own instrument of the same id and version, English only.
    org = store.organizations.add(Organization(id=ids.new_id(), name="Acme",
                                               created_at=utc_now()))
    own = replace(_english_only(shipped["how-you-buy", 2]), org_id=org.id)
    store.instruments.add(own)

    assert install_builtin(store) == []  # nothing new to add

    upgraded = store.instruments.get(None, "how-you-buy", 2)
    assert upgraded.org_id is None
    assert upgraded.definition == shipped["how-you-buy", 2].definition
    assert upgraded.definition["languages"] == ["en", "de", "fr"]
    assert store.instruments.get(None, "how-we-sell", 1).definition == edited
    assert store.instruments.get(org.id, "how-you-buy", 2).definition == own.definition
    assert "translations" not in store.instruments.get(None, "how-you-buy", 1).definition
    # Running again (every service does on start) changes nothing.
    install_builtin(store)
    assert store.instruments.get(None, "how-you-buy", 2).definition == \
        shipped["how-you-buy", 2].definition
    store.close()


def test_a_survey_made_before_the_upgrade_opens_in_german_after_it(tmp_path, settings):
    url = f"sqlite:///{tmp_path}/old-app.db"
    store = open_store(url)
    store.initialize()
    for instrument in builtin_instruments():
        store.instruments.add(_english_only(instrument))
    store.close()
    app = survey_api.create_app(settings.with_overrides(store_url=url))
    client = app.test_client()
    from shared.extensions import get_store
    with app.app_context():
        tenant = Tenant(get_store(), "Acme")
    survey = client.post("/v1/surveys", json={
        "name": "Old", "customer_instrument": {"id": "how-you-buy", "version": 2},
        "settings": {"anonymous_link": True}}, headers=tenant.headers()).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    page = client.get(f"/a/{survey['id']}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="de"' in page.text and "Wie lange ist Ihr Unternehmen" in page.text
