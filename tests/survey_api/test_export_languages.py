"""The export carries each response's language, so an export re-imports with its languages:
export (CSV), import into a fresh survey, and that survey's report counts the same languages.
Expected tallies are counted from what the test posts, never read from the store."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter

import pytest

import scoring_service

from tests.support.factories import builtin, complete_answers

CUSTOMER_V2 = builtin("how-you-buy", 2)
LANGUAGES = ["de", "de", "fr", "en", "pt-BR", None]


def _new_survey(client, headers, name) -> str:
    created = client.post("/v1/surveys", json={
        "name": name, "customer_instrument": {"id": "how-you-buy", "version": 2}},
        headers=headers).get_json()
    assert client.post(f"/v1/surveys/{created['id']}/open", headers=headers).status_code == 200
    return created["id"]


@pytest.fixture
def posted(client, tenant):
    """A survey with responses in several languages (and some that say none)."""
    headers = tenant.headers()
    survey_id = _new_survey(client, headers, "Exported")
    rng = random.Random(23)
    languages = {}
    items = []
    for i in range(30):
        language = rng.choice(LANGUAGES)
        item = {"submission_id": f"s{i}", "answers": complete_answers(CUSTOMER_V2, rng)}
        if language:
            item["language"] = language
        languages[item["submission_id"]] = language
        items.append(item)
    batch = client.post(f"/v1/surveys/{survey_id}/responses:batch", json={"responses": items},
                        headers=headers)
    assert batch.get_json()["created"] == 30, batch.get_json()["results"][:2]
    return {"survey_id": survey_id, "languages": languages}


def _export(client, tenant, survey_id, fmt):
    answer = client.get(f"/v1/surveys/{survey_id}/responses/export?format={fmt}",
                        headers=tenant.headers())
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _report_languages(settings, tenant, survey_id) -> dict:
    report = scoring_service.create_app(settings).test_client().get(
        f"/v1/surveys/{survey_id}/report", headers=tenant.headers())
    assert report.status_code == 200, report.get_json()
    return report.get_json()["languages"]


def test_both_formats_write_each_responses_language_empty_when_none(client, tenant, posted):
    rows = list(csv.DictReader(io.StringIO(_export(client, tenant, posted["survey_id"], "csv"))))
    assert {row["submission_id"]: row["language"] for row in rows} == {
        sid: language or "" for sid, language in posted["languages"].items()}
    lines = [json.loads(line) for line in
             _export(client, tenant, posted["survey_id"], "ndjson").splitlines()]
    assert {line["submission_id"]: line["language"] for line in lines} == posted["languages"]


def test_a_csv_export_reimports_into_a_fresh_survey_with_its_languages(
        client, tenant, runner, settings, posted, tmp_path):
    expected = Counter(language for language in posted["languages"].values() if language)
    assert _report_languages(settings, tenant, posted["survey_id"]) == {
        "customer": dict(expected)}

    exported = tmp_path / "export.csv"
    exported.write_text(_export(client, tenant, posted["survey_id"], "csv"), encoding="utf-8")
    fresh = _new_survey(client, tenant.headers(), "Re-imported")
    imported = runner.invoke(args=["import-responses", fresh, str(exported)])
    assert imported.exit_code == 0 and "30 created" in imported.output, imported.output

    assert _report_languages(settings, tenant, fresh) == {"customer": dict(expected)}
    again = list(csv.DictReader(io.StringIO(_export(client, tenant, fresh, "csv"))))
    assert {row["submission_id"]: row["language"] for row in again} == {
        sid: language or "" for sid, language in posted["languages"].items()}
