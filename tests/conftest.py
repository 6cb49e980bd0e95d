"""Fixtures in the Flask tutorial's shape: app, client, runner; plus a store and a tenant."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

import pdf_service
import scoring_service
import survey_api
from shared.keys import issue_key
from shared.settings import Settings
from shared.extensions import get_store
from survey_api.accounts.domain import create_organization

from tests.support.browser import chromium

# In CI (CI=true) property tests and the bounded API fuzzing draw the same examples every run,
# so a submission never fails on a case no earlier run saw; `make fuzz` explores at random.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") and not os.environ.get("FUZZ_RANDOM"):
    hypothesis_settings.load_profile("ci")

SERVICES = {
    "survey_api": survey_api.create_app,
    "scoring_service": scoring_service.create_app,
    "pdf_service": pdf_service.create_app,
}


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, one per test module (a launch takes a while)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def settings(tmp_path) -> Settings:
    # Webhook deliveries are sent by the tests themselves (deliver_due), not a background
    # thread, to receivers on 127.0.0.1: private targets are allowed here (never by default).
    return Settings(app_env="test", store_url=f"sqlite:///{tmp_path}/test.db",
                    secret_key="test-secret-key-0123456789", service_token="test-service-token-0123",
                    webhook_poll_seconds=0, webhook_allow_private=True)


@pytest.fixture
def app(settings):
    return survey_api.create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def scoring(settings, app):
    """scoring_service's test client, reading the store `app` (survey_api) writes."""
    return scoring_service.create_app(settings).test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def store(app):
    with app.app_context():
        yield get_store()


class Tenant:
    """An organization with one key per scope, and the headers to use each."""

    def __init__(self, store, name):
        self.org = create_organization(store, name)
        self.keys = {}
        for scope in ("admin", "ingest", "read", "briefs"):
            _, plaintext = issue_key(store, self.org.id, f"{scope} key", [scope])
            self.keys[scope] = plaintext

    def headers(self, scope="admin") -> dict:
        return {"Authorization": f"Bearer {self.keys[scope]}"}


@pytest.fixture
def tenant(store) -> Tenant:
    return Tenant(store, "Acme Analytics")


@pytest.fixture
def other_tenant(store) -> Tenant:
    return Tenant(store, "Globex Software")


@pytest.fixture
def open_survey(client, tenant) -> dict:
    """An open survey of `tenant` with a custom region segment."""
    created = client.post("/v1/surveys", json={
        "name": "How our customers buy", "segments": {"region": ["emea", "americas"]},
        "customer_instrument": {"id": "how-you-buy", "version": 1},  # v1 answers in the tests
        "branding": {"vendor_name": "Acme Analytics", "accent_color": "#0b7285"},
    }, headers=tenant.headers())
    assert created.status_code == 201, created.get_json()
    survey = created.get_json()
    opened = client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    assert opened.status_code == 200
    return opened.get_json()
