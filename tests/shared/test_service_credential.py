"""The inter-service credential works only on the one route a service calls, and no install
runs on secrets anyone else knows (issue 13, item 11)."""

from __future__ import annotations

import os
import stat

import pytest

import scoring_service
from shared.settings import ConfigError, load_settings


def _service_headers(settings, org_id) -> dict:
    return {"X-Service-Token": settings.service_token, "X-Org-Id": org_id}


def test_the_service_token_reads_no_raw_data_from_survey_api(client, settings, tenant,
                                                             open_survey):
    headers = _service_headers(settings, tenant.org.id)
    for path in (f"/v1/surveys/{open_survey['id']}/responses/export",
                 f"/v1/surveys/{open_survey['id']}/responses", "/v1/surveys", "/v1/me"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, path
        assert "not accepted" in answer.get_json()["detail"]
    # Not even next to a valid key.
    both = client.get("/v1/surveys", headers={**headers, **tenant.headers()})
    assert both.status_code == 401


def test_the_service_token_reads_the_score_report_and_nothing_else(settings, tenant,
                                                                   open_survey):
    client = scoring_service.create_app(settings).test_client()
    headers = _service_headers(settings, tenant.org.id)
    report = client.get(f"/v1/surveys/{open_survey['id']}/report", headers=headers)
    assert report.status_code == 200, report.get_json()
    explain = client.get(f"/v1/surveys/{open_survey['id']}/report/explain?dimension=A1",
                         headers=headers)
    assert explain.status_code == 401
    score = client.post("/v1/score", json={"responses": [], "vendor_responses": []},
                        headers=headers)
    assert score.status_code == 401
    wrong = client.get(f"/v1/surveys/{open_survey['id']}/report",
                       headers={**headers, "X-Service-Token": "guessed-" + "x" * 20})
    assert wrong.status_code == 401


def test_each_install_generates_its_own_secrets(tmp_path):
    first = load_settings({"SECRETS_FILE": str(tmp_path / "a" / "secrets.env")})
    again = load_settings({"SECRETS_FILE": str(tmp_path / "a" / "secrets.env")})
    other = load_settings({"SECRETS_FILE": str(tmp_path / "b" / "secrets.env")})
    assert (first.secret_key, first.service_token) == (again.secret_key, again.service_token)
    assert first.secret_key != other.secret_key and first.service_token != other.service_token
    assert first.secret_key != first.service_token and len(first.secret_key) >= 40
    assert "dev-only" not in first.secret_key + first.service_token
    mode = stat.S_IMODE(os.stat(tmp_path / "a" / "secrets.env").st_mode)
    assert mode == 0o600
    # The environment still wins, and production never falls back to a file.
    given = load_settings({"SECRETS_FILE": str(tmp_path / "a" / "secrets.env"),
                           "SECRET_KEY": "from-the-environment-1234"})
    assert given.secret_key == "from-the-environment-1234"
    assert given.service_token == first.service_token
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"APP_ENV": "production", "SECRETS_FILE": str(tmp_path / "a" /
                                                                     "secrets.env")})


def test_the_service_token_reaches_only_the_brief_routes_the_console_calls(settings, tenant):
    import pdf_service

    client = pdf_service.create_app(settings).test_client()
    headers = _service_headers(settings, tenant.org.id)
    # Routes the console calls take it (past authentication: no such survey or brief).
    assert client.get(f"/v1/surveys/{'0' * 32}/briefs", headers=headers).status_code == 404
    assert client.get(f"/v1/briefs/{'0' * 32}", headers=headers).status_code == 404
    # Deleting a brief and rendering a posted report are not the console's: refused.
    assert client.delete(f"/v1/briefs/{'0' * 32}", headers=headers).status_code == 401
    assert client.post("/v1/render", json={}, headers=headers).status_code == 401
    # A wrong token is refused where the right one is accepted.
    wrong = {**headers, "X-Service-Token": "not-the-token-0123456789"}
    assert client.get(f"/v1/surveys/{'0' * 32}/briefs", headers=wrong).status_code == 401
