"""The counter path and a from-scratch computation over the raw responses agree exactly.

Responses go through the real ingestion (validation, cells, counters in SQLite); the report
from the stored counters must equal the report from counters recounted independently from the
stored responses, and its headline numbers must equal plain-Python statistics of the raw
answers."""

from __future__ import annotations

import random
import statistics
from collections import Counter

from hypothesis import HealthCheck, given, settings, strategies as st

from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model
from shared.instruments import questions_of
from shared.storage import open_store
from survey_api.demo import seed_demo
from survey_api.responses.domain import ingest_batch
from survey_api.surveys.domain import create_survey, transition

from tests.support.factories import builtin, complete_answers

CUSTOMER, VENDOR = builtin("how-you-buy"), builtin("how-we-sell")


def recount(responses) -> dict:
    """Cells and counters from raw responses, written without shared.cells."""
    types = {**{q: d["type"] for q, d in questions_of(CUSTOMER).items()}}
    vtypes = {q: d["type"] for q, d in questions_of(VENDOR).items()}
    cells: dict[str, Counter] = {}
    for r in responses:
        if r.instrument == "customer":
            key = f"customer|region={r.attributes.get('region', '')}|size=" \
                  f"{r.attributes['size']}|tenure={r.attributes['tenure']}"
            kinds = types
        else:
            key = f"vendor|role={r.attributes['role']}"
            kinds = vtypes
        c = cells.setdefault(key, Counter())
        c["n"] += 1
        for q, v in r.answers.items():
            if kinds[q] == "text":
                continue
            c[q + "#answered"] += 1
            if kinds[q] == "ranking":
                c.update(f"{q}@{i}={o}" for i, o in enumerate(v, 1))
            elif isinstance(v, list):
                c.update(f"{q}={o}" for o in v)
            else:
                c[f"{q}={v}"] += 1
    return {k: dict(v) for k, v in cells.items()}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_customers=st.integers(0, 60),
       n_vendor=st.integers(0, 5), skip_share=st.floats(0, 0.5))
def test_counter_path_equals_from_scratch(tmp_path_factory, seed, n_customers, n_vendor,
                                          skip_share):
    rng = random.Random(seed)
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('p')}/p.db")
    demo = seed_demo(store, tmp_path_factory.mktemp("k") / "key")
    survey = create_survey(store, demo.org_id, {"name": "p", "segments": {"region": ["a", "b"]},
                                                "customer_instrument": {"id": "how-you-buy", "version": 1}})
    survey = transition(store, demo.org_id, survey.id, "open")
    items = []
    for i in range(n_customers):
        answers = complete_answers(CUSTOMER, rng)
        for q in [q for q, d in questions_of(CUSTOMER).items() if not d.get("required")]:
            if rng.random() < skip_share:
                answers.pop(q)  # skipped optional items
        item = {"submission_id": f"c{i}", "instrument": "customer", "answers": answers,
                "complete": True}
        if rng.random() < 0.7:
            item["attributes"] = {"region": rng.choice(["a", "b"])}
        items.append(item)
    items += [{"submission_id": f"v{i}", "instrument": "vendor", "complete": True,
               "answers": complete_answers(VENDOR, rng)} for i in range(n_vendor)]
    results = ingest_batch(store, survey, items, {})
    assert all(r["status"] == "created" for r in results)

    stored = list(store.responses.iter_survey(survey.id))
    live = store.aggregates.for_survey(survey.id)
    assert live == recount(stored)

    def report(cells):
        r = build_report(cells, model=load_model(), customer_definition=CUSTOMER,
                         segments=survey.segments, customer_names=["region", "size", "tenure"],
                         crosses=[["size", "tenure"]])
        r.pop("generated_at")
        return r

    from_counters = report(live)
    assert from_counters == report(recount(stored))

    customers = [r for r in stored if r.instrument == "customer"]
    overall = from_counters["overall"]
    if len(customers) < 5:
        assert overall["status"] == "suppressed"
        return
    assert overall["n"] == len(customers)
    nps = [r.answers["nps"] for r in customers]
    expected_nps = 100 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps)
    assert overall["nps"]["value"] == round(expected_nps, 1)
    a6_items = ["exp_website_helped", "exp_clear_reason", "exp_taught", "exp_meetings_advanced",
                "exp_ease"]
    expected_a6 = statistics.mean(
        (statistics.mean(r.answers[q] for r in customers) - 1) / 4 * 100 for q in a6_items)
    # The report rounds to one decimal; two exact computations may sit either side of a .x5 tie
    # by float noise, so allow half a unit of the last place (plus that noise), not more.
    assert abs(overall["alignment"]["dimensions"]["A6"]["score"] - expected_a6) <= 0.05 + 1e-9
    vendors = [r for r in stored if r.instrument == "vendor"]
    if vendors:
        wanted = statistics.median(r.answers["first_contact_percent"] for r in customers)
        engaged = statistics.median(r.answers["first_touch_percent"] for r in vendors)
        expected_a1 = 100 - min(100, 2 * abs(wanted - engaged))
        assert overall["alignment"]["dimensions"]["A1"]["score"] == round(expected_a1, 1)
