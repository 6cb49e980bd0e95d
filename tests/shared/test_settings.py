from __future__ import annotations

import pytest

from shared.settings import ConfigError, load_settings


def test_defaults_need_no_environment():
    s = load_settings({})
    assert s.store_url == "sqlite:///var/survey.db"
    assert (s.survey_api_port, s.scoring_port, s.pdf_port) == (8001, 8002, 8003)
    assert s.secret_key  # a development secret, so `make run` needs no set-up


def test_environment_overrides_and_types():
    s = load_settings({"STORE_URL": "mongodb://db:27017/survey", "MAX_BODY_BYTES": "2048",
                       "WEB_CONCURRENCY": "4"})
    assert s.store_url == "mongodb://db:27017/survey"
    assert s.max_body_bytes == 2048 and s.web_concurrency == 4


def test_a_bad_number_names_the_variable():
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        load_settings({"WEB_CONCURRENCY": "many"})


def test_production_refuses_to_start_without_secrets():
    with pytest.raises(ConfigError) as info:
        load_settings({"APP_ENV": "production"})
    assert "SECRET_KEY" in str(info.value) and "SERVICE_TOKEN" in str(info.value)
    with pytest.raises(ConfigError, match="SERVICE_TOKEN"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 32})
    ok = load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 32,
                        "SERVICE_TOKEN": "y" * 32})
    assert ok.is_production and ok.secret_key == "x" * 32


def test_unknown_store_scheme_is_refused():
    with pytest.raises(ConfigError, match="STORE_URL"):
        load_settings({"STORE_URL": "postgres://x"})
