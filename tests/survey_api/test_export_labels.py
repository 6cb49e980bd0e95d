"""Exports with option labels in a chosen language (?labels=de): the instrument's own
translation, codes when no language is asked for, a clear 422 for a language not offered.
Expected labels are read from the shipped translation files, not through the export's code."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

from tests.support.factories import builtin, complete_answers

CUSTOMER_V2 = builtin("how-you-buy", 2)
TRANSLATIONS = Path(__file__).parents[2] / "shared" / "instrument_data" / "translations"
QUESTIONS = {q["id"]: q for s in CUSTOMER_V2["sections"] for q in s["questions"]}


def _words(language: str) -> dict:
    return json.loads((TRANSLATIONS / f"how-you-buy.v2.{language}.json").read_text("utf-8"))


def _label(words: dict, qid: str, value):
    return words[f"questions.{qid}.options.{value}"]


@pytest.fixture
def survey(client, tenant):
    h = tenant.headers()
    created = client.post("/v1/surveys", json={
        "name": "Labels", "customer_instrument": {"id": "how-you-buy", "version": 2}},
        headers=h).get_json()
    assert client.post(f"/v1/surveys/{created['id']}/open", headers=h).status_code == 200
    rng = random.Random(5)
    posted = []
    sources = [o["value"] for o in QUESTIONS["info_sources"]["options"]]
    for i in range(6):
        chosen = rng.sample(sources, 5)  # four or more sources: the ranking is asked
        answers = complete_answers(CUSTOMER_V2, rng, info_sources=chosen,
                                   top_sources=chosen[:3])
        answer = client.post(f"/v1/surveys/{created['id']}/responses", json={
            "submission_id": f"s{i}", "answers": answers}, headers=h)
        assert answer.status_code == 201, answer.get_json()
        posted.append(answer.get_json()["answers"])
    return {"id": created["id"], "answers": posted}


def _export(client, tenant, survey, query):
    return client.get(f"/v1/surveys/{survey['id']}/responses/export?{query}",
                      headers=tenant.headers())


def test_csv_shows_each_option_as_its_label_in_the_language_asked_for(client, tenant, survey):
    words = _words("de")
    answer = _export(client, tenant, survey, "format=csv&labels=de")
    assert answer.status_code == 200 and answer.is_streamed
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    checked = set()
    for row, answers in zip(rows, survey["answers"]):
        for qid, value in answers.items():
            kind = QUESTIONS[qid]["type"]
            if kind in ("single_choice",):
                assert row[qid] == _label(words, qid, value)
            elif kind in ("multiple_choice", "ranking"):
                assert row[qid] == ";".join(_label(words, qid, v) for v in value)
            else:  # numbers and free text are what was answered
                assert row[qid] == ("" if value is None else str(value)).lstrip("'")
            checked.add(kind)
    assert {"single_choice", "multiple_choice", "ranking", "likert_5"} <= checked
    assert rows[0]["tenure"] in {_label(words, "tenure", o["value"])
                                 for o in QUESTIONS["tenure"]["options"]}


def test_ndjson_labels_and_the_default_stays_answer_codes(client, tenant, survey):
    words = _words("fr")
    lines = [json.loads(line) for line in _export(
        client, tenant, survey, "format=ndjson&labels=fr").get_data(as_text=True).splitlines()]
    for line, answers in zip(lines, survey["answers"]):
        assert line["answers"]["info_sources"] == [_label(words, "info_sources", v)
                                                   for v in answers["info_sources"]]
        assert line["answers"]["company_size"] == _label(words, "company_size",
                                                         answers["company_size"])
        assert line["answers"]["nps"] == answers["nps"]
    codes = [json.loads(line) for line in _export(
        client, tenant, survey, "format=ndjson").get_data(as_text=True).splitlines()]
    assert [line["answers"] for line in codes] == survey["answers"]
    english = list(csv.DictReader(io.StringIO(_export(
        client, tenant, survey, "labels=en").get_data(as_text=True))))
    first_size = next(o for o in QUESTIONS["company_size"]["options"]
                      if o["value"] == survey["answers"][0]["company_size"])
    assert english[0]["company_size"] == first_size["label"]  # the default language's labels


@pytest.mark.parametrize("query, reason", [
    ("labels=es", "offered: en, de, fr"),
    ("labels=German!", "language code"),
    ("format=ndjson&instrument=customer&labels=it", "offered: en, de, fr"),
])
def test_a_language_the_instrument_does_not_offer_is_a_422_naming_labels(client, tenant, survey,
                                                                         query, reason):
    answer = _export(client, tenant, survey, query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    [error] = answer.get_json()["errors"]
    assert error["field"] == "labels" and reason in error["reason"]
