"""Display conditions: checked when an instrument is created, and honoured alike by the compiled
validator (API, import), the export, the web form's pages and the scores; the shorter
"How you buy" v2 built on them."""

from __future__ import annotations

import copy
import csv
import io
import random
import statistics

import pytest

from shared.instruments import InstrumentDefinitionSchema, compile_validator, questions_of
from survey_api.forms.domain import pages_for

from tests.support.factories import builtin, complete_answers
from tests.support.populations import JOBS, healthy_customer, healthy_vendor

V2 = builtin("how-you-buy", 2)
VALIDATOR = compile_validator(V2)


def _conditional(**show_if) -> dict:
    return {"id": "pulse", "version": 1, "kind": "customer", "title": "Pulse", "sections": [
        {"id": "s1", "title": "One", "questions": [
            {"id": "rating", "type": "likert_5", "text": "Good?", "required": True},
            {"id": "why", "type": "multiple_choice", "text": "Why?", "required": True,
             "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
             "show_if": show_if or {"question": "rating", "in": [4, 5]}},
            {"id": "note", "type": "text", "text": "Anything else?"}]}]}


# -- created only when it makes sense ---------------------------------------------------------

@pytest.mark.parametrize("show_if, path, reason", [
    ({"question": "note", "in": ["x"]}, "sections.0.questions.1.show_if.question",
     "'note' is not a question asked before this one."),
    ({"question": "rating", "in": [6]}, "sections.0.questions.1.show_if.in",
     "Not a possible answer to 'rating': 6."),
    ({"question": "rating", "in": ["4"]}, "sections.0.questions.1.show_if.in",
     "Not a possible answer to 'rating': 4."),
    ({"question": "rating", "min": 0}, "sections.0.questions.1.show_if.min",
     "Must be a whole number from 1 to 5."),
    ({"question": "rating", "in": [4], "answered": True}, "sections.0.questions.1.show_if",
     "Give one of in, not_in or answered, or min and/or max."),
    ({"all": [{"question": "rating", "in": [4]}, {"question": "why", "in": ["a"]}]},
     "sections.0.questions.1.show_if.all.1.question",
     "'why' is not a question asked before this one."),
    ({"question": "rating", "equals": 4}, "sections.0.questions.1.show_if.equals",
     "Unknown key; use question with one of in, not_in, min, max, answered, or all / any."),
])
def test_a_condition_on_a_later_question_or_an_impossible_value_is_refused_by_path(
        client, tenant, show_if, path, reason):
    response = client.post("/v1/instruments", json=_conditional(**show_if),
                           headers=tenant.headers())
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["field"].removeprefix("json."), e["reason"]) for e in errors] == [(path, reason)]


def test_a_valid_condition_is_stored_and_options_from_must_name_an_earlier_choice(client,
                                                                                  tenant):
    assert client.post("/v1/instruments", json=_conditional(), headers=tenant.headers()
                       ).status_code == 201
    definition = _conditional()
    definition["sections"][0]["questions"].append(
        {"id": "top", "type": "ranking", "text": "Order", "options_from": "rating",
         "options": [{"value": "a", "label": "A"}]})
    errors = InstrumentDefinitionSchema().validate({**definition, "version": 2})
    assert errors == {"sections": {"0": {"questions": {"3": {"options_from": [
        "'rating' is a likert_5 question; options_from needs a multiple choice one."]}}}}}


# -- one rule for every way answers arrive ---------------------------------------------------

def test_a_hidden_question_is_not_required_and_an_answer_to_it_is_refused():
    validator = compile_validator(_conditional())
    _, errors = validator.validate({"rating": 2}, complete=True)
    assert errors == []  # "why" is hidden, so not required
    _, errors = validator.validate({"rating": 5}, complete=True)
    assert errors == [{"field": "answers.why", "reason": "An answer is required."}]
    _, errors = validator.validate({"rating": 2, "why": ["a"]}, complete=True)
    assert errors == [{"field": "answers.why", "reason": "Not asked with these answers: shown "
                                                         "only when rating is one of 4, 5."}]
    clean, errors = validator.validate({"rating": 2, "why": []}, complete=True)
    assert errors == [] and clean == {"rating": 2}  # an empty answer to it is no answer


def test_conditions_chain_and_combine():
    definition = _conditional()
    definition["sections"][0]["questions"][2]["show_if"] = {
        "any": [{"question": "why", "in": ["b"]}, {"question": "rating", "max": 1}]}
    validator = compile_validator(definition)
    assert validator.hidden({"rating": 5, "why": ["a", "b"]}) == frozenset()
    assert validator.hidden({"rating": 5, "why": ["a"]}) == {"note"}
    assert validator.hidden({"rating": 1}) == {"why"}  # note shown: rating at most 1
    # "why" answered but hidden (rating 3) counts as unanswered for what follows it.
    assert validator.hidden({"rating": 3, "why": ["b"]}) == {"why", "note"}


def test_v2_asks_what_is_wanted_only_at_important_jobs_and_ranks_only_what_was_chosen():
    answers = complete_answers(V2, random.Random(3), job_problem_importance=5,
                               job_problem_mode="in_person", job_explore_importance=2,
                               job_selection_importance=4, job_selection_mode="none",
                               info_sources=["search", "peers"])
    hidden = VALIDATOR.hidden(answers)
    assert "job_problem_value" not in hidden
    assert {"job_explore_value", "job_selection_value", "top_sources"} <= hidden
    _, errors = VALIDATOR.validate({**answers, "job_explore_value": ["demo"]}, complete=True)
    assert [e["field"] for e in errors] == ["answers.job_explore_value"]
    many = complete_answers(V2, random.Random(4), info_sources=["search", "peers", "events",
                                                                "social"])
    _, errors = VALIDATOR.validate({**many, "top_sources": ["analysts"]}, complete=True)
    assert errors == [{"field": "answers.top_sources", "reason": "Only options chosen in "
                       "info_sources can be ranked; not chosen: analysts."}]
    _, errors = VALIDATOR.validate({**many, "top_sources": ["events", "search"]}, complete=True)
    assert errors == []


@pytest.fixture
def v2_survey(client, tenant):
    survey = client.post("/v1/surveys", json={"name": "Short", "segments": {
        "region": ["emea", "americas"]}}, headers=tenant.headers()).get_json()
    assert survey["customer_instrument"] == {"id": "how-you-buy", "version": 2}  # the default
    client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    return survey


def test_the_api_refuses_answers_to_hidden_questions_and_exports_them_blank(client, tenant,
                                                                              v2_survey):
    h, url = tenant.headers(), f"/v1/surveys/{v2_survey['id']}/responses"
    answers = complete_answers(V2, random.Random(8), job_problem_importance=1)
    refused = client.post(url, json={"submission_id": "x1", "answers": {
        **answers, "job_problem_value": ["pricing"]}}, headers=h)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["answers.job_problem_value"]
    assert client.post(url, json={"submission_id": "x1", "answers": answers},
                       headers=h).status_code == 201
    exported = client.get(f"{url}/export?format=csv", headers=h).get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(exported)))
    assert row["job_problem_value"] == "" and row["job_problem_importance"] == "1"
    assert "role" not in row  # v2's columns


def test_import_applies_the_same_rule(runner, app, client, tenant, v2_survey, tmp_path):
    rng = random.Random(9)
    rows = [complete_answers(V2, rng, job_consensus_importance=2) for _ in range(3)]
    rows[1]["job_consensus_value"] = ["demo"]
    rows[2]["first_contact_percent"] = "not_sure"  # as the export writes it
    columns = ["submission_id"] + list(questions_of(V2))
    source = tmp_path / "v2.csv"
    with source.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow({"submission_id": f"i{i}", **{
                k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()}})
    result = runner.invoke(args=["import-responses", v2_survey["id"], str(source)])
    assert "2 created" in result.output and "1 rejected" in result.output, result.output
    rejects = list(csv.DictReader((tmp_path / "v2.csv.rejects.csv").open()))
    assert [(r["submission_id"], r["field"]) for r in rejects] == [
        ("i1", "answers.job_consensus_value")]
    with app.app_context():
        from shared.extensions import get_store

        stored = {r.submission_id: r for r in get_store().responses.iter_survey(v2_survey["id"])}
        assert stored["i2"].answers["first_contact_percent"] == "not_sure"
        cells = get_store().aggregates.for_survey(v2_survey["id"]).values()
        # "Not sure" is counted apart: the scores read only the numbers given.
        assert sum(c.get("first_contact_percent#not_sure", 0) for c in cells) == 1
        assert sum(c.get("first_contact_percent#answered", 0) for c in cells) == 1


# -- scores: a question skipped by design is not a non-response -------------------------------

def _v2_from(answers: dict) -> dict:
    kept = {k: v for k, v in answers.items() if k in VALIDATOR.questions}
    hidden = VALIDATOR.hidden(kept)
    return {k: v for k, v in kept.items() if k not in hidden}


def test_reports_score_v2_surveys_from_the_items_v2_asks(client, scoring, tenant, v2_survey):
    rng = random.Random(31)
    customers = []
    for i in range(40):
        answers = _v2_from(healthy_customer(rng, "new", "small"))
        for job in JOBS[:3]:  # half the jobs unimportant: nothing asked about what is wanted
            answers[f"job_{job}_importance"] = 2
            answers.pop(f"job_{job}_value", None)
        customers.append(answers)
    items = [{"submission_id": f"c{i}", "answers": a, "attributes": {"region": "emea"}}
             for i, a in enumerate(customers)]
    items += [{"submission_id": f"v{i}", "instrument": "vendor",
               "answers": healthy_vendor(rng, role)} for i, role in enumerate(["sales",
                                                                               "marketing"])]
    posted = client.post(f"/v1/surveys/{v2_survey['id']}/responses:batch",
                         json={"responses": items}, headers=tenant.headers()).get_json()
    assert posted["created"] == 42, posted
    report = scoring.get(f"/v1/surveys/{v2_survey['id']}/report",
                         headers=tenant.headers("read")).get_json()
    dims = report["overall"]["alignment"]["dimensions"]
    # Every dimension scored over all 40 customers: hidden questions took nothing from n.
    assert {k: d["n"] for k, d in dims.items()} == {f"A{i}": 40 for i in range(1, 8)}
    # A6 is the mean of v2's four experience items, each 1-5 rescaled to 0-100 (by hand).
    items_v2 = ["exp_website_helped", "exp_clear_reason", "exp_taught", "exp_meetings_advanced"]
    by_hand = statistics.mean(statistics.mean((a[q] - 1) / 4 * 100 for a in customers)
                              for q in items_v2)
    assert dims["A6"]["score"] == pytest.approx(by_hand, abs=0.05)


def test_the_model_names_only_items_each_customer_version_asks():
    from scoring_service.scoring.model import load_model, model_for
    from shared.storage import Instrument

    for version in (1, 2):
        definition = builtin("how-you-buy", version)
        asked = questions_of(definition)
        model = model_for(Instrument(id="how-you-buy", version=version, kind="customer",
                                     title="", definition=definition, org_id=None))
        a = model["alignment"]
        wanted = [a["A1"]["customer_item"], a["A3"]["customer_content"], a["A3"]["gate_tolerance"],
                  a["A4"]["customer_sources"], a["A5"]["customer_team"], a["A6"]["nps_item"],
                  *a["A6"]["items"], *a["A7"]["pairs"].values(),
                  *[a["A2"][k].format(job=j) for j in a["A2"]["jobs"]
                    for k in ("customer_importance", "customer_mode")],
                  *[p["evidence"] for p in model["readiness"]["pillars"].values()
                    if p.get("evidence")]]
        if a["A3"]["customer_formats"]:
            wanted.append(a["A3"]["customer_formats"])
        assert [q for q in wanted if q not in asked] == [], version
        # What a condition may hide feeds no score: skipping it by design costs no n.
        conditional = set(compile_validator(definition).conditions)
        assert conditional.isdisjoint(wanted)
    assert load_model()["alignment"]["A6"]["items"][-1] == "exp_ease"  # v1 keeps its five


# -- shorter: what a median respondent is asked ---------------------------------------------

def _asked(answers: dict, known: dict) -> int:
    pages = pages_for(V2, known, VALIDATOR.hidden(answers))
    return sum(len(p.questions) for p in pages)


def test_a_median_respondent_is_asked_at_most_25_questions():
    """Over 2,001 respondents answering at random (every option equally likely), through an
    invitation that carries tenure and size as the CRM knows them: the median count of
    questions shown. Anonymous respondents are also asked tenure and size (two more)."""
    rng = random.Random(2026)
    invited, anonymous = [], []
    for _ in range(2001):
        answers = complete_answers(V2, rng)
        invited.append(_asked(answers, {"tenure": "new", "size": "small"}))
        anonymous.append(_asked(answers, {}))
    assert statistics.median(invited) <= 25
    assert statistics.median(anonymous) == statistics.median(invited) + 2
    assert max(invited) <= 30 and min(invited) >= 22
    v1 = builtin("how-you-buy")
    assert sum(len(p.questions) for p in pages_for(v1, {"tenure": "new", "size": "small"})) == 35
