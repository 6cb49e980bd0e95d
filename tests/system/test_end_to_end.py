"""The whole flow through real processes: the three services started from the Procfile (as
`make run` does), responses posted to survey_api, the report read from scoring_service, and a
brief made by pdf_service, which asks scoring_service over HTTP with the service credential."""

from __future__ import annotations

import random

import requests

from shared.storage import open_store
from survey_api.demo import seed_demo
from survey_api.surveys.domain import create_survey, transition

from tests.support.factories import builtin, complete_answers
from tests.support.pdfcheck import pdf_text, qpdf_check
from tests.support.services import running_services


def test_responses_to_report_to_brief_across_three_processes(tmp_path):
    db = tmp_path / "e2e.db"
    store = open_store(f"sqlite:///{db}")
    demo = seed_demo(store, tmp_path / "key")
    survey = create_survey(store, demo.org_id, {"name": "End to end",
                                                "customer_instrument": {"id": "how-you-buy",
                                                                        "version": 1},
                                                "branding": {
        "vendor_name": "Ende GmbH", "accent_color": "#5b2a86"}})
    transition(store, demo.org_id, survey.id, "open")
    store.close()
    with running_services(f"sqlite:///{db}") as services:
        urls = services.urls
        headers = {"Authorization": f"Bearer {demo.api_key}"}
        rng = random.Random(9)
        items = [{"submission_id": f"e{i}",
                  "answers": complete_answers(builtin("how-you-buy"), rng)} for i in range(30)]
        items += [{"submission_id": f"s{i}", "instrument": "vendor",
                   "answers": complete_answers(builtin("how-we-sell"), rng)} for i in range(3)]
        posted = requests.post(f"{urls['survey_api']}/v1/surveys/{survey.id}/responses:batch",
                               json={"responses": items}, headers=headers, timeout=30).json()
        assert posted["created"] == 33
        report = requests.get(f"{urls['scoring']}/v1/surveys/{survey.id}/report",
                              headers=headers, timeout=30).json()
        assert report["responses"] == {"customer": 30, "vendor": 3}
        brief = requests.post(f"{urls['pdf']}/v1/briefs", json={
            "survey_id": survey.id, "audience": "board"}, headers=headers, timeout=60)
        assert brief.status_code == 201, brief.text
        meta = brief.json()
        assert meta["metadata"]["alignment"] == report["overall"]["alignment"]["score"]
        pdf = requests.get(meta["pdf_url"], headers=headers, timeout=30)
        qpdf_check(pdf.content)
        text = pdf_text(pdf.content)
        assert "Ende GmbH" in text and f"{report['overall']['alignment']['score']:.1f}" in text
        shared = requests.get(meta["share_url"], timeout=30)  # no key needed
        assert shared.status_code == 200 and shared.content == pdf.content
