"""The whole flow through real processes: the three services started from the Procfile (as
`make run` does), responses posted to survey_api, the report read from scoring_service, and a
brief made by pdf_service, which asks scoring_service over HTTP with the service credential."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import requests

from shared.storage import open_store
from survey_api.demo import seed_demo
from survey_api.surveys.domain import create_survey, transition

from .factories import builtin, complete_answers
from .helpers import free_port, wait_ready
from .pdfcheck import pdf_text, qpdf_check

ROOT = Path(__file__).resolve().parent.parent


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
    ports = {"SURVEY_API_PORT": free_port(), "SCORING_PORT": free_port(), "PDF_PORT": free_port()}
    urls = {k: f"http://127.0.0.1:{v}" for k, v in ports.items()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "STORE_URL": f"sqlite:///{db}",
           "WEB_CONCURRENCY": "1", "SCORING_URL": urls["SCORING_PORT"],
           "PDF_URL": urls["PDF_PORT"], "SURVEY_API_URL": urls["SURVEY_API_PORT"]}
    honcho = Path(sys.executable).parent / "honcho"
    proc = subprocess.Popen([str(honcho), "start", "-f", "Procfile"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        for url in urls.values():
            wait_ready(f"{url}/readyz")
        headers = {"Authorization": f"Bearer {demo.api_key}"}
        rng = random.Random(9)
        items = [{"submission_id": f"e{i}",
                  "answers": complete_answers(builtin("how-you-buy"), rng)} for i in range(30)]
        items += [{"submission_id": f"s{i}", "instrument": "vendor",
                   "answers": complete_answers(builtin("how-we-sell"), rng)} for i in range(3)]
        posted = requests.post(f"{urls['SURVEY_API_PORT']}/v1/surveys/{survey.id}/responses:batch",
                               json={"responses": items}, headers=headers, timeout=30).json()
        assert posted["created"] == 33
        report = requests.get(f"{urls['SCORING_PORT']}/v1/surveys/{survey.id}/report",
                              headers=headers, timeout=30).json()
        assert report["responses"] == {"customer": 30, "vendor": 3}
        brief = requests.post(f"{urls['PDF_PORT']}/v1/briefs", json={
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
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
