"""Rate limits cannot be dodged with made-up keys, and behind a proxy the client address is the
one the trusted proxy names (issue 13, item 5)."""

from __future__ import annotations

import pytest

import survey_api
from shared.settings import ConfigError, load_settings

from tests.conftest import SERVICES


def _survey_with_anonymous_link(client, tenant) -> str:
    survey = client.post("/v1/surveys", json={"name": "x", "settings": {"anonymous_link": True}},
                         headers=tenant.headers()).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    return survey["id"]


def test_random_bearer_tokens_do_not_buy_anonymous_link_budget(settings, tenant):
    app = survey_api.create_app(settings.with_overrides(anonymous_rate_limit="3 per minute"))
    client = app.test_client()
    survey_id = _survey_with_anonymous_link(client, tenant)
    codes = [client.get(f"/a/{survey_id}", headers={"Authorization": f"Bearer bk_random{i}"}
                        ).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    # A real key does not lift the address's limit on the pages either.
    assert client.get(f"/a/{survey_id}", headers=tenant.headers()).status_code == 429


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_invalid_keys_are_counted_against_the_client_address(name, settings, tenant):
    app = SERVICES[name](settings.with_overrides(api_rate_limit="4 per minute"))
    client = app.test_client()
    route = {"survey_api": "/v1/me", "scoring_service": "/v1/surveys/none/report",
             "pdf_service": "/v1/briefs/none"}[name]
    codes = [client.get(route, headers={"Authorization": f"Bearer bk_made_up_{i}"}
                        ).status_code for i in range(6)]
    assert codes[:4] == [401] * 4 and codes[4:] == [429, 429]
    # A valid key has its own budget, whatever the address did.
    assert client.get(route, headers=tenant.headers()).status_code != 429


def test_behind_a_proxy_the_trusted_hop_names_the_client(settings, tenant):
    direct = survey_api.create_app(settings.with_overrides(anonymous_rate_limit="2 per minute"))
    proxied = survey_api.create_app(settings.with_overrides(anonymous_rate_limit="2 per minute",
                                                            trusted_proxy_hops=1))
    for app, distinct in ((direct, False), (proxied, True)):
        client = app.test_client()
        survey_id = _survey_with_anonymous_link(client, tenant)
        codes = [client.get(f"/a/{survey_id}", headers={
            "X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(4)]
        # Without trusted hops a forged X-Forwarded-For changes nothing; with one, the proxy's
        # header names a different client each time.
        assert codes == ([200] * 4 if distinct else [200, 200, 429, 429])


def test_trusted_proxy_hops_is_a_setting():
    assert load_settings({}).trusted_proxy_hops == 0
    assert load_settings({"TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
        load_settings({"TRUSTED_PROXY_HOPS": "-1"})
