"""Instrument sizes are bounded on creation, and every per-process cache has a bound (issue 13,
item 4: a 1,500-option ranking question once added ~440 MB to every worker)."""

from __future__ import annotations

import pytest

from shared import cells, instruments
from shared.bounded_cache import BoundedCache
from shared.instruments import (
    MAX_DEFINITION_BYTES, MAX_OPTIONS, MAX_QUESTIONS, MAX_QUESTIONS_PER_SECTION, MAX_SECTIONS,
    InstrumentDefinitionSchema, compile_validator,
)
from shared.storage import Instrument
from survey_api.responses import domain as responses_domain
from survey_api.surveys import domain as surveys_domain

from tests.support.factories import builtin


def _question(number: int, options: int = 2) -> dict:
    return {"id": f"q{number}", "type": "single_choice", "text": f"Question {number}?",
            "options": [{"value": f"o{i}", "label": f"Option {i}"} for i in range(options)]}


def _instrument(sections: list[list[dict]]) -> dict:
    return {"id": "big", "version": 1, "kind": "customer", "title": "Big",
            "sections": [{"id": f"s{n}", "title": f"Section {n}", "questions": questions}
                         for n, questions in enumerate(sections)]}


def _ranking(options: int, **extra) -> dict:
    return {"id": "rank", "type": "ranking", "text": "Rank them",
            "options": [{"value": f"o{i}", "label": f"Option {i}"} for i in range(options)],
            **extra}


def test_the_builtin_instruments_fit_the_limits_comfortably():
    for name in ("how-you-buy", "how-we-sell"):
        definition = builtin(name)
        InstrumentDefinitionSchema().load(definition)
        questions = [q for s in definition["sections"] for q in s["questions"]]
        assert len(definition["sections"]) * 3 <= MAX_SECTIONS
        assert len(questions) * 4 <= MAX_QUESTIONS
        assert max(len(s["questions"]) for s in definition["sections"]) * 5 <= \
            MAX_QUESTIONS_PER_SECTION
        assert max(len(q.get("options", [])) for q in questions) * 5 <= MAX_OPTIONS


@pytest.mark.parametrize("definition, field", [
    (_instrument([[_ranking(1500)]]), "sections.0.questions.0.options"),
    (_instrument([[_question(1, options=MAX_OPTIONS + 1)]]), "sections.0.questions.0.options"),
    (_instrument([[_question(n)] for n in range(MAX_SECTIONS + 1)]), "sections"),
    (_instrument([[_question(n) for n in range(MAX_QUESTIONS_PER_SECTION + 1)]]),
     "sections.0.questions"),
    (_instrument([[_question(s * 100 + n) for n in range(MAX_QUESTIONS_PER_SECTION)]
                  for s in range(3)]), "sections"),
    # Unknown presentation hints are kept, so the total size bounds them.
    (_instrument([[{**_question(n), "help": "h" * 4000} for n in range(80)]]), "sections"),
    (_instrument([[{**_question(1), "scale_labels": ["x"] * 12}]]),
     "sections.0.questions.0.scale_labels"),
])
def test_an_oversize_instrument_is_refused_naming_the_field(client, tenant, definition, field):
    response = client.post("/v1/instruments", json=definition, headers=tenant.headers())
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert field in fields, response.get_json()


def test_the_size_limit_counts_the_whole_definition(client, tenant):
    within = _instrument([[{**_question(n), "help": "h" * 2000} for n in range(100)]])
    assert len(str(within)) < MAX_DEFINITION_BYTES
    assert client.post("/v1/instruments", json=within,
                       headers=tenant.headers()).status_code == 201
    beyond = _instrument([[{**_question(n), "help": "h" * 2000} for n in range(100)],
                          [{**_question(200 + n), "help": "h" * 2000} for n in range(40)]])
    refused = client.post("/v1/instruments", json=beyond, headers=tenant.headers())
    assert refused.status_code == 422
    assert "limit is 262,144" in refused.get_json()["errors"][0]["reason"]


def _closure_values(function) -> list:
    values = []
    for cell in function.__closure__:
        try:
            values.append(cell.cell_contents)
        except ValueError:  # a cell not filled yet
            pass
    return values


def _rank_counters(validator) -> set[str]:
    return {name for value in _closure_values(validator.checks["rank"])
            if isinstance(value, dict)
            for name in value.values() if isinstance(name, str) and "@" in name}


def test_a_top_three_ranking_names_options_times_three_counters():
    definition = _instrument([[_ranking(MAX_OPTIONS, max_choices=3)]])
    validator = compile_validator(definition)
    assert len(_rank_counters(validator)) == MAX_OPTIONS * 3
    # Ranking all of them is still possible, and counted at every rank.
    unbounded = compile_validator(_instrument([[_ranking(10)]]))
    assert len(_rank_counters(unbounded)) == 10 * 10
    _, counted = unbounded.checks["rank"]([f"o{i}" for i in range(10)])
    assert "rank@10=o9" in counted


def test_the_bounded_cache_keeps_at_most_maxsize_evicting_the_oldest():
    cache = BoundedCache(3)
    for n in range(10):
        cache.put(n, str(n))
    assert len(cache) == 3
    assert cache.get(0) is None and cache.get(9) == "9"
    assert cache.get_or_make(42, lambda: "made") == "made" and len(cache) == 3
    with pytest.raises(ValueError):
        BoundedCache(0)


def _instrument_record(number: int) -> Instrument:
    definition = _instrument([[_question(1)]])
    return Instrument(id=f"i{number}", version=1, kind="customer", title="t",
                      definition=definition, org_id=f"org{number}")


def test_every_per_process_cache_has_a_bound():
    caches = {
        "validators": instruments._validators,
        "counter names": cells._NAMES,
        "pinned instruments": surveys_domain._pinned,
        "segment lookups": responses_domain._lookups,
    }
    for name, cache in caches.items():
        assert isinstance(cache, BoundedCache), name
        assert cache.maxsize <= 100_000, name
    for n in range(instruments._validators.maxsize + 50):
        instruments.validator_for(_instrument_record(n))
    assert len(instruments._validators) == instruments._validators.maxsize
    for n in range(cells._NAMES.maxsize + 10):
        cells.counter_name("q", f"v{n}")
    assert len(cells._NAMES) == cells._NAMES.maxsize
    # The valid choices a ranking or multiple-choice question remembers are bounded too.
    validator = compile_validator(_instrument([[_ranking(MAX_OPTIONS, max_choices=3)]]))
    check = validator.checks["rank"]
    for a in range(20):  # 20 x 19 x 18 = 6,840 distinct valid top threes
        for b in range(20):
            for c in range(20):
                if len({a, b, c}) == 3:
                    check([f"o{a}", f"o{b}", f"o{c}"])
    remembered = next(value for value in _closure_values(check)
                      if isinstance(value, BoundedCache))
    assert len(remembered) == remembered.maxsize == instruments.MAX_REMEMBERED_CHOICES
    # lru_caches in the code are bounded as well.
    from scoring_service.scoring import model, stats
    from shared.storage import codec
    for cached in (codec._field_names, model.load_model, stats.t_quantile, stats.median_rank,
                   stats.z_value):
        assert cached.cache_info().maxsize is not None, cached
