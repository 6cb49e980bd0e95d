"""The built-in instruments cover the design's areas; organizations add their own, validated;
answers are checked by the compiled validators."""

from __future__ import annotations

import copy
import random

import pytest

from shared.instruments import (
    QUESTION_TYPES, InstrumentDefinitionSchema, compile_validator,
)

from tests.support.factories import builtin, complete_answers

JOBS = ("problem", "explore", "requirements", "selection", "validation", "consensus")


def test_builtin_instruments_are_valid_and_cover_every_area():
    customer, vendor = builtin("how-you-buy"), builtin("how-we-sell")
    for definition in (customer, vendor):
        InstrumentDefinitionSchema().load(definition)
    cq = {q["id"]: q for s in customer["sections"] for q in s["questions"]}
    vq = {q["id"]: q for s in vendor["sections"] for q in s["questions"]}
    for job in JOBS:  # each buying job: importance, preferred mode, value wanted / offered
        assert {f"job_{job}_importance", f"job_{job}_mode", f"job_{job}_value"} <= set(cq)
        assert {f"job_{job}_modes", f"job_{job}_value"} <= set(vq)
    assert {q.get("segment") for q in cq.values()} >= {"tenure", "size"}
    assert vq["role"]["segment"] == "role"
    assert {q.get("dimension") for q in cq.values()} >= {f"A{i}" for i in range(1, 7)}
    assert {q.get("dimension") for q in vq.values()} >= {"A1", "A2", "A3", "A4", "A5", "A7"} | {
        f"R{i}" for i in range(1, 9)}
    # Every prediction names a customer question of the same type.
    for q in vq.values():
        if "predicts" in q:
            assert cq[q["predicts"]]["type"] == q["type"], q["id"]
    # The customer evidence behind the readiness caps exists.
    assert {q.get("evidence_for") for q in cq.values()} >= {"R1", "R2", "R3", "R8"}
    used = {q["type"] for q in list(cq.values()) + list(vq.values())}
    assert used == set(QUESTION_TYPES)


def _minimal(**changes) -> dict:
    definition = {"id": "pulse", "version": 1, "kind": "customer", "title": "Pulse",
                  "sections": [{"id": "s1", "title": "One", "questions": [
                      {"id": "q1", "type": "likert_5", "text": "Good?", "required": True},
                      {"id": "q2", "type": "single_choice", "text": "Which?",
                       "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
                  ]}]}
    definition.update(changes)
    return definition


def test_an_organization_adds_versions_of_its_own_instrument(client, tenant, other_tenant):
    h = tenant.headers()
    created = client.post("/v1/instruments", json=_minimal(), headers=h)
    assert created.status_code == 201
    assert client.post("/v1/instruments", json=_minimal(), headers=h).status_code == 409
    assert client.post("/v1/instruments", json=_minimal(version=2, title="Pulse 2"),
                       headers=h).status_code == 201
    assert client.get("/v1/instruments/pulse", headers=h).get_json()["title"] == "Pulse 2"
    assert client.get("/v1/instruments/pulse?version=1", headers=h).get_json()["title"] == "Pulse"
    listed = {(i["id"], i["version"], i["builtin"]) for i in
              client.get("/v1/instruments", headers=h).get_json()}
    assert {("how-you-buy", 1, True), ("how-we-sell", 1, True), ("pulse", 1, False),
            ("pulse", 2, False)} <= listed
    # Another organization sees only the built-in ones.
    assert client.get("/v1/instruments/pulse", headers=other_tenant.headers()).status_code == 404
    # Built-in ids are reserved.
    taken = client.post("/v1/instruments", json=_minimal(id="how-you-buy", version=9), headers=h)
    assert taken.status_code == 409


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["sections"][0]["questions"][0].update(type="slider"),
     "sections.0.questions.0.type"),
    (lambda d: d["sections"][0]["questions"][1].update(id="q1"), "sections.0.questions.1.id"),
    (lambda d: d["sections"][0]["questions"][1].update(options=[]),
     "sections.0.questions.1.options"),
    (lambda d: d["sections"][0]["questions"][1]["options"].append({"value": "a", "label": "again"}),
     "sections.0.questions.1.options"),
    (lambda d: d["sections"][0]["questions"][0].update(options=[{"value": "x", "label": "x"}]),
     "sections.0.questions.0.options"),
    (lambda d: d.update(kind="partner"), "kind"),
    (lambda d: d["sections"].append(copy.deepcopy(d["sections"][0])), "sections.1.id"),
    # Found by schemathesis: a float where a whole number belongs was truncated and accepted.
    (lambda d: d["sections"][0]["questions"][1].update(max_choices=2.589e-42),
     "sections.0.questions.1.max_choices"),
    (lambda d: d.update(version=1.5), "version"),
])
def test_invalid_instruments_are_422_naming_the_field(client, tenant, mutate, field):
    definition = _minimal()
    mutate(definition)
    response = client.post("/v1/instruments", json=definition, headers=tenant.headers())
    assert response.status_code == 422
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert field in fields, fields


# -- compiled answer validation ------------------------------------------------------------

@pytest.fixture(scope="module")
def customer_validator():
    return compile_validator(builtin("how-you-buy"))


def test_a_complete_valid_answer_set_passes(customer_validator):
    answers = complete_answers(builtin("how-you-buy"))
    clean, errors = customer_validator.validate(answers, complete=True)
    assert errors == []
    assert clean["nps"] == answers["nps"]


@pytest.mark.parametrize("qid, value, reason", [
    ("nps", 11, "Must be a whole number from 0 to 10."),
    ("nps", True, "Must be a whole number from 0 to 10."),
    ("nps", "9", "Must be a whole number from 0 to 10."),
    ("first_contact_percent", 101, "Must be a whole number from 0 to 100."),
    ("first_contact_percent", -1, "Must be a whole number from 0 to 100."),
    ("exp_ease", 0, "Must be a whole number from 1 to 5."),
    ("exp_ease", 4.5, "Must be a whole number from 1 to 5."),
    ("exp_ease", 4.0, "Must be a whole number from 1 to 5."),  # equal to 4, but not a whole number
    ("exp_ease", [4], "Must be a whole number from 1 to 5."),  # unhashable
    ("tenure", ["new"], "Must be one of: new, established, long_standing."),
    ("tenure", {"new": 1}, "Must be one of: new, established, long_standing."),
    ("tenure", "ancient", "Must be one of: new, established, long_standing."),
    ("content_useful", "articles", "Must be a list of option values."),
    ("content_useful", ["articles", "articles"], "An option is listed more than once."),
    ("content_useful", [["articles"]], "Must be a list of option values."),
    ("content_useful", ["articles", 1], "Must be a list of option values."),
    ("top_sources", ["search", "peers", "events", "social"], "Choose at most 3."),
    ("suggestion", "x" * 1001, "Must be at most 1000 characters (got 1001)."),
    ("no_such_question", 1, "Unknown question."),
])
def test_each_kind_of_bad_answer_is_named(customer_validator, qid, value, reason):
    answers = complete_answers(builtin("how-you-buy"), **{qid: value})
    _, errors = customer_validator.validate(answers, complete=True)
    assert errors == [{"field": f"answers.{qid}", "reason": reason}]


def test_option_not_offered_names_the_option(customer_validator):
    answers = complete_answers(builtin("how-you-buy"), content_useful=["articles", "horoscopes"])
    _, errors = customer_validator.validate(answers, complete=True)
    assert errors[0]["field"] == "answers.content_useful"
    assert errors[0]["reason"].startswith("Not an option here: horoscopes.")


def test_required_answers_only_on_complete_responses(customer_validator):
    answers = {"nps": 7}
    _, partial_errors = customer_validator.validate(answers, complete=False)
    assert partial_errors == []
    _, errors = customer_validator.validate(answers, complete=True)
    missing = {e["field"] for e in errors}
    assert "answers.tenure" in missing and "answers.suggestion" not in missing  # optional
    _, errors = customer_validator.validate(answers, complete=True,
                                            skip_required=frozenset({"tenure"}))
    assert "answers.tenure" not in {e["field"] for e in errors}


def test_multiple_choice_is_put_in_option_order_so_equal_content_hashes_equal(
        customer_validator):
    a, _ = customer_validator.validate({"content_useful": ["reviews", "articles"]}, complete=False)
    b, _ = customer_validator.validate({"content_useful": ["articles", "reviews"]}, complete=False)
    assert a == b == {"content_useful": ["articles", "reviews"]}
    ranked, _ = customer_validator.validate({"top_sources": ["peers", "search"]}, complete=False)
    assert ranked["top_sources"] == ["peers", "search"]  # a ranking keeps its order


def test_remembered_choices_are_copied_and_still_checked(customer_validator):
    """Valid multiple choices are remembered per question; the remembered value must not be
    shared with a caller that changes it, and a bad list must not hit a remembered good one."""
    first, _ = customer_validator.validate({"content_useful": ["reviews", "articles"]},
                                           complete=False)
    first["content_useful"].append("tampered")
    again, errors = customer_validator.validate({"content_useful": ["reviews", "articles"]},
                                                complete=False)
    assert errors == [] and again == {"content_useful": ["articles", "reviews"]}
    _, errors = customer_validator.validate(
        {"content_useful": ["reviews", "articles", "reviews"]}, complete=False)
    assert errors == [{"field": "answers.content_useful",
                       "reason": "An option is listed more than once."}]
    clean, errors = customer_validator.validate({"content_useful": []}, complete=False)
    assert clean == {} and errors == []  # an empty choice is no answer


def test_counters_from_the_validator_match_the_plain_recount(customer_validator):
    """Ingestion takes counters from the validator's single pass; rebuild and erasure use
    shared.cells.answer_counters. Over many random responses both name the same counters, and
    a hand-counted example pins the names themselves."""
    from shared.cells import answer_counters

    definition = builtin("how-you-buy")
    rng = random.Random(5)
    for _ in range(200):
        checked = customer_validator.check(complete_answers(definition, rng), complete=True)
        assert checked.errors == []
        assert sorted(checked.counters) == sorted(
            answer_counters(customer_validator.questions, checked.answers))
    checked = customer_validator.check(
        {"nps": 9, "tenure": "new", "content_useful": ["reviews", "articles"],
         "top_sources": ["peers", "search"], "suggestion": "more pricing detail"},
        complete=False)
    assert sorted(checked.counters) == sorted([
        "n", "nps#answered", "nps=9", "tenure#answered", "tenure=new",
        "content_useful#answered", "content_useful=articles", "content_useful=reviews",
        "top_sources#answered", "top_sources@1=peers", "top_sources@2=search"])


def test_segment_keys_and_cell_keys_are_one_codec():
    """A report segment's key is a cell key without its kind: written and read in one place
    (shared.cells), whatever the names and values."""
    import random

    from shared.cells import cell_key, parse_cell_key, segment_key, segment_names_of

    rng = random.Random(14)
    for _ in range(200):
        names = rng.sample(["size", "tenure", "region", "role", "industry"], rng.randint(1, 4))
        attributes = {name: rng.choice(["large", "new", "emea", "it-ops", "a b"]) for name in names}
        key = segment_key(attributes)
        assert cell_key("customer", attributes, names) == "customer|" + key
        assert parse_cell_key("customer|" + key) == ("customer", attributes)
        assert segment_names_of(key) == sorted(names)
    assert segment_key({"tenure": "new", "size": "large"}) == "size=large|tenure=new"
