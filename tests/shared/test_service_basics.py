"""What every service shares: probes, problem+json errors, body limit, OpenAPI, request ids."""

from __future__ import annotations

import json
import logging

import pytest

from shared.logs import JsonFormatter
from shared.problems import PROBLEM_JSON

from tests.conftest import SERVICES


@pytest.fixture(params=sorted(SERVICES))
def service_client(request, settings):
    app = SERVICES[request.param](settings.with_overrides(max_body_bytes=4096))

    @app.get("/boom")  # a route that fails, to see what a client gets from a bug
    def boom():
        raise RuntimeError("secret internal detail")

    return app.test_client()


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["type"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_healthz_and_readyz(service_client):
    assert service_client.get("/healthz").get_json()["status"] == "ok"
    ready = service_client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_readyz_is_503_when_the_store_is_unreachable(name, settings):
    app = SERVICES[name](settings.with_overrides(store_url="sqlite:////proc/no-such-dir/x.db"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # up, but not ready
    body = assert_problem(client.get("/readyz"), 503)
    assert "store" in body["detail"]


def test_unknown_route_is_a_404_problem(service_client):
    assert_problem(service_client.get("/no/such/route"), 404)


def test_wrong_method_is_a_405_problem_with_allow(service_client):
    response = service_client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_a_413_problem(service_client):
    body = assert_problem(service_client.post("/healthz", data=b"x" * 5000,
                                              content_type="application/json"), 413)
    assert "4096" in body["detail"]


def test_unhandled_error_is_a_500_problem_without_a_trace(service_client):
    response = service_client.get("/boom")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret internal detail" not in text
    assert body["request_id"]


def test_openapi_document_and_docs_page_are_served(service_client):
    spec = service_client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/readyz" in spec["paths"]
    docs = service_client.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data
    # The docs page's scripts come from this service, not a CDN.
    assert b"/docs/assets/swagger-ui-bundle.js" in docs.data
    assert b"cdn" not in docs.data.lower()
    assert service_client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_request_id_is_echoed_or_made(service_client):
    given = service_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = service_client.get("/healthz", headers={"X-Request-ID": "bad id with spaces!"})
    assert made.headers["X-Request-ID"] not in ("", "bad id with spaces!")


def test_access_log_is_json_with_the_request_id(service_client, caplog):
    with caplog.at_level(logging.INFO):
        service_client.get("/healthz", headers={"X-Request-ID": "trace-me"})
    records = [r for r in caplog.records if r.name.endswith(".access")]
    assert records, "no access log line"
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["request_id"] == "trace-me" and line["status"] == 200
    assert line["path"] == "/healthz" and line["method"] == "GET"


# -- JSON body errors, on a route that takes a body (survey_api's key issuance) ------------

def test_malformed_json_is_a_400_problem(client, tenant):
    response = client.post("/v1/keys", data=b'{"name": "x", "scopes": [', headers={
        **tenant.headers(), "Content-Type": "application/json"})
    assert_problem(response, 400)


def test_invalid_fields_are_a_422_problem_naming_each_field(client, tenant):
    response = client.post("/v1/keys", json={"scopes": ["read", "superuser"], "colour": "red"},
                           headers=tenant.headers())
    body = assert_problem(response, 422)
    by_field = {e["field"]: e for e in body["errors"]}
    assert set(by_field) == {"name", "scopes.1", "colour"}
    assert by_field["name"]["reason"] == "Missing data for required field."
    assert "admin" in by_field["scopes.1"]["reason"]  # names the allowed values
    assert by_field["colour"]["location"] == "json"
    assert "name" in body["detail"]


def test_a_domain_error_is_a_problem_document_on_every_service(settings):
    """The shared app factory answers shared.errors.DomainError on all three services, with
    the fields scoring_service's report errors use (status, message, errors)."""
    from shared.errors import DomainError, Invalid

    for name, make_app in sorted(SERVICES.items()):
        app = make_app(settings)

        @app.get("/refused")
        def refused():
            raise DomainError(422, "2 field(s) are invalid.",
                              [{"field": "segment_by.0", "location": "query", "reason": "Two."},
                               {"field": "responses.3.q1", "reason": "Out of range."}])

        @app.get("/invalid")
        def invalid():
            raise Invalid("1 field(s) are invalid.", [{"field": "name", "reason": "Too long."}])

        client = app.test_client()
        body = assert_problem(client.get("/refused"), 422)
        assert body["title"] == "Unprocessable Entity", name
        assert body["detail"] == "2 field(s) are invalid."
        assert body["errors"] == [
            {"field": "segment_by.0", "location": "query", "reason": "Two."},
            {"field": "responses.3.q1", "reason": "Out of range."}]
        body = assert_problem(client.get("/invalid"), 422)
        assert body["errors"] == [{"location": "json", "field": "name", "reason": "Too long."}]
