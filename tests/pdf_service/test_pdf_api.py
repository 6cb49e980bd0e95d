"""pdf_service over HTTP, with scoring_service running as a real HTTP server in this process
and a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import random
import socket
import time

import pytest

import pdf_service
import scoring_service

from tests.support.helpers import LiveServer, free_port
from tests.support.mailbox import running_inbox
from tests.support.pdfcheck import pdf_text, qpdf_check
from tests.support.populations import healthy_customer, healthy_vendor


@pytest.fixture
def scoring_url(settings, app):
    server = LiveServer(scoring_service.create_app(settings))
    yield server.url
    server.close()


@pytest.fixture
def inbox():
    with running_inbox() as running:
        yield running


@pytest.fixture
def pdf_client(settings, scoring_url, inbox):
    app = pdf_service.create_app(settings.with_overrides(
        scoring_url=scoring_url, smtp_url=inbox.url, pdf_url="http://briefs.test"))
    return app.test_client()


@pytest.fixture
def scored_survey(client, tenant, open_survey):
    rng = random.Random(4)
    items = [{"submission_id": f"c{i}", "answers": healthy_customer(
        rng, rng.choice(["new", "long_standing"]), rng.choice(["small", "large"]))}
        for i in range(40)]
    items += [{"submission_id": f"v{i}", "instrument": "vendor",
               "answers": healthy_vendor(rng, "sales")} for i in range(2)]
    client.post(f"/v1/surveys/{open_survey['id']}/responses:batch", json={"responses": items},
                headers=tenant.headers())
    return open_survey


def test_a_brief_is_rendered_stored_and_served(pdf_client, tenant, scored_survey, client):
    created = pdf_client.post("/v1/briefs", json={
        "survey_id": scored_survey["id"], "audience": "board",
        "segments": ["size=large", "size=large|tenure=new"]}, headers=tenant.headers("briefs"))
    assert created.status_code == 201, created.get_json()
    brief = created.get_json()
    meta = brief["metadata"]
    assert meta["audience"] == "board" and meta["model"]["version"] == "2026.1"
    assert meta["responses"] == {"customer": 40, "vendor": 2}
    pdf = pdf_client.get(f"/v1/briefs/{brief['id']}.pdf", headers=tenant.headers())
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    import hashlib
    assert hashlib.sha256(pdf.data).hexdigest() == brief["checksum"]
    qpdf_check(pdf.data)
    text = pdf_text(pdf.data)
    assert "Size: large · Tenure: new" in text and "board" in text
    assert f"{meta['alignment']:.1f}" in text
    # The customers' voice travels from the scoring service's report into the brief.
    assert "“Keep it simple.”" in text and "40 customers" in text
    listed = pdf_client.get(f"/v1/surveys/{scored_survey['id']}/briefs",
                            headers=tenant.headers()).get_json()
    assert [b["id"] for b in listed] == [brief["id"]]
    unknown = pdf_client.post("/v1/briefs", json={"survey_id": scored_survey["id"],
                                                  "segments": ["size=huge"]},
                              headers=tenant.headers())
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "segments.0"


def test_shared_links_open_without_a_key_until_they_expire(pdf_client, tenant, scored_survey,
                                                           monkeypatch):
    brief = pdf_client.post("/v1/briefs", json={"survey_id": scored_survey["id"]},
                            headers=tenant.headers()).get_json()
    path = brief["share_url"].replace("http://briefs.test", "")
    opened = pdf_client.get(path)
    assert opened.status_code == 200 and opened.mimetype == "application/pdf"
    assert opened.headers["Cache-Control"] == "private, no-store"
    tampered = pdf_client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 404 and tampered.mimetype == "text/html"
    assert b"not valid" in tampered.data and b"Traceback" not in tampered.data
    import itsdangerous.timed
    real_time = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 8 * 24 * 3600)
    expired = pdf_client.get(path)
    assert expired.status_code == 410 and b"expired" in expired.data


def test_email_carries_the_pdf_and_a_summary(pdf_client, tenant, scored_survey, inbox):
    created = pdf_client.post("/v1/briefs", json={
        "survey_id": scored_survey["id"], "email_to": ["ceo@example.com", "cro@example.com"]},
        headers=tenant.headers()).get_json()
    assert created["email"] == {"sent": True, "to": ["ceo@example.com", "cro@example.com"]}
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["ceo@example.com", "cro@example.com"]
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    text = body.get_payload(decode=True).decode()
    assert f"{created['metadata']['alignment']:.1f} of 100" in text
    # The body is page 1 of the brief: its headline and its first actions, in order.
    assert text.splitlines()[3] == created["metadata"]["headline"]
    positions = [text.index(a["title"]) for a in created["metadata"]["actions"]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert ("What to do first:" in text) == bool(positions)
    assert "http://briefs.test/shared/" in text
    attachment = next(p for p in message.walk() if p.get_content_type() == "application/pdf")
    qpdf_check(attachment.get_payload(decode=True))
    again = pdf_client.post(f"/v1/briefs/{created['id']}/email", json={"to": ["cfo@example.com"]},
                            headers=tenant.headers())
    assert again.status_code == 200 and len(inbox.messages) == 2
    bad = pdf_client.post(f"/v1/briefs/{created['id']}/email", json={"to": ["nobody"]},
                          headers=tenant.headers())
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "to.0"


def test_scoring_down_is_502_and_slow_is_504(settings, tenant, scored_survey):
    down = pdf_service.create_app(settings.with_overrides(
        scoring_url=f"http://127.0.0.1:{free_port()}")).test_client()
    response = down.post("/v1/briefs", json={"survey_id": scored_survey["id"]},
                         headers=tenant.headers())
    assert response.status_code == 502 and response.mimetype == "application/problem+json"
    assert "cannot be reached" in response.get_json()["detail"]

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections, never answers
    try:
        slow = pdf_service.create_app(settings.with_overrides(
            scoring_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            scoring_timeout_seconds=1)).test_client()
        response = slow.post("/v1/briefs", json={"survey_id": scored_survey["id"]},
                             headers=tenant.headers())
        assert response.status_code == 504 and "did not answer" in response.get_json()["detail"]
    finally:
        silent.close()


def test_briefs_are_tenant_scoped(pdf_client, tenant, other_tenant, scored_survey):
    brief = pdf_client.post("/v1/briefs", json={"survey_id": scored_survey["id"]},
                            headers=tenant.headers()).get_json()
    h = other_tenant.headers()
    assert pdf_client.get(f"/v1/briefs/{brief['id']}", headers=h).status_code == 404
    assert pdf_client.get(f"/v1/briefs/{brief['id']}.pdf", headers=h).status_code == 404
    assert pdf_client.get(f"/v1/surveys/{scored_survey['id']}/briefs",
                          headers=h).status_code == 404
    theirs = pdf_client.post("/v1/briefs", json={"survey_id": scored_survey["id"]}, headers=h)
    assert theirs.status_code == 404


def test_render_takes_a_report_and_refuses_malformed_ones(pdf_client, tenant, scored_survey,
                                                          scoring_url):
    import requests
    report = requests.get(f"{scoring_url}/v1/surveys/{scored_survey['id']}/report",
                          headers=tenant.headers()).json()
    rendered = pdf_client.post("/v1/render?audience=sales%20leadership", json=report,
                               headers=tenant.headers())
    assert rendered.status_code == 200 and rendered.mimetype == "application/pdf"
    assert "sales leadership" in pdf_text(rendered.data)
    broken = dict(report, overall={"alignment": "high"})
    response = pdf_client.post("/v1/render", json=broken, headers=tenant.headers())
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    missing = pdf_client.post("/v1/render", json={"overall": {}}, headers=tenant.headers())
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} >= {"model", "segments"}
