"""The README's "Using the API" block runs as written (issue 14, item 2): the three services
started from the Procfile as `make run` does, the block run by bash with only the variables it
already reads (KEY, API, SCORING, BRIEFS) pointed at them, and every curl's HTTP status checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import requests

from shared.storage import open_store
from survey_api.demo import seed_demo

from tests.support.pdfcheck import page_count, pdf_text, qpdf_check
from tests.support.services import running_services

ROOT = Path(__file__).resolve().parents[2]
# Every curl also writes its status and URL to stderr, so each step can be checked.
CURL_STATUS = "curl() { command curl -w '%{stderr}HTTP %{http_code} %{url_effective}\\n' \"$@\"; }\n"


def quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Using the API"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_block_uses_only_variables_it_sets_or_defaults():
    block = quickstart_block()
    used = set(re.findall(r"\$\{?([A-Z_]+)", block))
    set_here = set(re.findall(r"(?:^|[;\s])([A-Z_]+)=", block, re.M))
    assert used <= set_here, used - set_here
    for path in re.findall(r"@(\S+\.json)", block):
        assert (ROOT / path).is_file(), path


def test_the_readme_quickstart_runs_against_the_three_services(tmp_path):
    db = tmp_path / "quickstart.db"
    store = open_store(f"sqlite:///{db}")
    demo = seed_demo(store, tmp_path / "demo-api-key")
    store.close()
    # The block reads docs/examples/responses.json relative to where it runs, and writes
    # brief.pdf there: a scratch directory holding that one file.
    work = tmp_path / "work"
    (work / "docs" / "examples").mkdir(parents=True)
    (work / "docs" / "examples" / "responses.json").write_bytes(
        (ROOT / "docs" / "examples" / "responses.json").read_bytes())
    with running_services(f"sqlite:///{db}") as services:
        urls = services.urls
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", CURL_STATUS + quickstart_block()], cwd=work,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KEY": demo.api_key,
                 "API": urls["survey_api"], "SCORING": urls["scoring"],
                 "BRIEFS": urls["pdf"]},
            capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr[-3000:]
        steps = re.findall(r"^HTTP (\d+) (\S+)$", run.stderr, re.M)
        paths = [(int(status), re.sub(r"[0-9a-f]{32}", "{id}", url.split(":", 2)[2]
                                      .split("/", 1)[1])) for status, url in steps]
        assert paths == [
            (201, "v1/surveys"),
            (200, "v1/surveys/{id}/open"),
            (201, "v1/surveys/{id}/invitations"),
            (200, "v1/surveys/{id}/responses:batch"),
            (200, "v1/surveys/{id}/report?segment_by=size,tenure"),
            (201, "v1/briefs"),
            (200, "v1/briefs/{id}.pdf"),
            (200, "v1/briefs/{id}/share"),
        ], run.stderr

        answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        opened, invited, batch, report, share = answers
        assert opened["status"] == "open" and opened["branding"]["public_title"]
        assert opened["branding"]["vendor_name"] == "Acme Analytics"
        assert len(invited["invitations"]) == 1
        assert batch["created"] == 49 and not batch.get("rejected")
        assert report["responses"] == {"customer": 40, "vendor": 9}
        assert share["expires_in_hours"] == 24
        pdf = (work / "brief.pdf").read_bytes()
        qpdf_check(pdf)
        text = pdf_text(pdf)
        assert "Acme Analytics" in text and "board" in text
        assert f"{report['overall']['alignment']['score']:.1f}" in text
        assert page_count(pdf) >= 6  # the answer, segments, scores, voice, actions, methods
        shared = requests.get(share["url"], timeout=30)  # no key
        assert shared.status_code == 200 and shared.content == pdf


def test_the_readmes_brief_page_count_is_the_demo_briefs(tmp_path):
    """The performance table names the brief the benchmark renders: the demo survey's."""
    from pdf_service.brief.render import render_brief
    from scoring_service.domain import survey_report

    stated = re.search(r"brief render \((\d+) pages, (\d+) charts\)",
                       (ROOT / "README.md").read_text())
    bench = (ROOT / "bench" / "bench_brief_render.py").read_text()
    assert stated.group(0) in bench
    store = open_store(f"sqlite:///{tmp_path}/demo.db")
    demo = seed_demo(store, tmp_path / "demo-api-key")
    report = survey_report(store, demo.org_id, demo.survey_id, ["size,tenure"])
    assert page_count(render_brief(report)) == int(stated.group(1))
