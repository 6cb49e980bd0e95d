"""/ on each service links to its own docs and to the other services' docs (issue 14, item 2),
from one shared page."""

from __future__ import annotations

import re

import pytest

from .conftest import SERVICES

URLS = {"survey_api": "http://surveys.example:8101", "scoring_service": "http://scores.example:8102",
        "pdf_service": "http://briefs.example:8103"}


@pytest.mark.parametrize("name", sorted(SERVICES))
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
