"""/ on each service links to its own docs and to the other services' docs (issue 14, item 2),
from one shared page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SERVICES

URLS = {"survey_api": "http://surveys.example:8101", "scoring_service": "http://scores.example:8102",
        "pdf_service": "http://briefs.example:8103"}


@pytest.mark.parametrize("name", ["scoring_service", "pdf_service"])
def test_the_root_page_links_to_every_services_docs(settings, name):
    app = SERVICES[name](settings.with_overrides(
        survey_api_url=URLS["survey_api"], scoring_url=URLS["scoring_service"] + "/",
        pdf_url=URLS["pdf_service"]))
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    links = re.findall(r'href="([^"]+)"', page.get_data(as_text=True))
    others = {f"{url}/docs" for other, url in URLS.items() if other != name}
    assert {"/docs", "/openapi.json"} | others <= set(links)
    assert f"{URLS[name]}/docs" not in links  # its own docs by path, whatever its public URL
    for local in (link for link in links if link.startswith("/")):
        assert client.get(local).status_code == 200, local


def test_survey_apis_root_is_the_console_sign_in_with_every_services_docs(settings):
    """survey_api's / is for the survey owner: the console's sign-in, whose footer links the
    three services' API docs."""
    app = SERVICES["survey_api"](settings.with_overrides(
        survey_api_url=URLS["survey_api"], scoring_url=URLS["scoring_service"] + "/",
        pdf_url=URLS["pdf_service"]))
    client = app.test_client()
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'type="password"' in html
    links = set(re.findall(r'href="([^"]+)"', html))
    others = {f"{url}/docs" for other, url in URLS.items() if other != "survey_api"}
    assert others <= links
    assert any(link.endswith("/docs") and "surveys.example" not in link and
               "scores.example" not in link and "briefs.example" not in link or
               link == f"{URLS['survey_api']}/docs" for link in links)
