"""The score report from the per-cell counters at 10k, 100k and 1M stored responses, against
two baselines: loading the same responses into pandas and grouping them by segment (the usual
way), and the floor, reading the survey's counter rows alone (what no report can skip).

BENCH_SIZES=10000,100000 limits the sizes (the default includes 1,000,000). The largest size
reuses the memory bench's 1,000,000 responses when it ran earlier in the same process (as in
`make bench`) instead of writing them again."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import time

import pandas as pd

from scoring_service.domain import survey_report
from shared import ids
from shared.cells import answer_counters, cell_key
from shared.instruments import builtin_instruments, questions_of
from shared.storage import NewResponse, Response

from .setup import backends, bench_survey, million_name, ready_survey
from .targets import Goal

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")]
NUMERIC = ["first_contact_percent", "exp_website_helped", "exp_clear_reason", "exp_taught",
           "exp_meetings_advanced", "exp_ease", "nps"]


def _population(store, survey, n: int, seed: int = 1) -> None:
    """n customer responses and 6 staff ones (the vendor side the alignment compares with)."""
    from .data import complete_answers

    customer = next(i for i in builtin_instruments() if i.kind == "customer").definition
    vendor = next(i for i in builtin_instruments() if i.kind == "vendor").definition
    cq, vq = questions_of(customer), questions_of(vendor)
    rng = random.Random(seed)
    pool = [complete_answers(customer, rng) for _ in range(500)]
    staff = [complete_answers(vendor, rng) for _ in range(6)]
    batch = []

    def flush():
        store.responses.add_many(batch)
        batch.clear()

    for i, answers in enumerate(staff):
        attrs = {"role": answers["role"]}
        r = Response(id=ids.new_id(), org_id=survey.org_id, survey_id=survey.id,
                     instrument="vendor", submission_id=f"v{i}", answers=answers,
                     attributes=attrs, cell_key=cell_key("vendor", attrs, ["role"]),
                     content_hash="-")
        batch.append(NewResponse(r, answer_counters(vq, answers)))
    for i in range(n):
        answers = pool[i % len(pool)]
        attrs = {"size": answers["company_size"], "tenure": answers["tenure"]}
        r = Response(id=ids.new_id(), org_id=survey.org_id, survey_id=survey.id,
                     instrument="customer", submission_id=f"c{i}", answers=answers,
                     attributes=attrs, cell_key=cell_key("customer", attrs, ["size", "tenure"]),
                     content_hash="-")
        batch.append(NewResponse(r, answer_counters(cq, answers)))
        if len(batch) >= 5000:
            flush()
    flush()


def _pandas_report(bench) -> float:
    """The usual way: load every customer response (JSON documents) into a DataFrame and
    group by segment."""
    start = time.perf_counter()
    if bench.backend == "SQLite":
        with sqlite3.connect(bench.url[len("sqlite:///"):]) as conn:
            docs = pd.read_sql_query("SELECT doc FROM responses WHERE survey_id = ? AND "
                                     "instrument = 'customer'", conn, params=(bench.survey.id,))
        rows = [json.loads(d) for d in docs["doc"]]
    else:
        rows = list(bench.store.db.responses.find(
            {"survey_id": bench.survey.id, "instrument": "customer"},
            {"answers": 1, "attributes": 1}))
    frame = pd.DataFrame([{**r["attributes"], **{q: r["answers"].get(q) for q in NUMERIC}}
                          for r in rows])
    grouped = frame.groupby(["size", "tenure"])
    grouped[NUMERIC].mean()
    grouped["first_contact_percent"].median()
    grouped.size()
    return time.perf_counter() - start


def _median_ms(read, times: int = 5) -> float:
    timings = []
    for _ in range(times):
        start = time.perf_counter()
        read()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def _measure(bench, size: int) -> list[dict]:
    store, demo, survey = bench.store, bench.demo, bench.survey
    survey_report(store, demo.org_id, survey.id, ["size,tenure"])  # warm caches
    report = survey_report(store, demo.org_id, survey.id, ["size,tenure"])
    assert report["responses"]["customer"] == size
    report_ms = _median_ms(lambda: survey_report(store, demo.org_id, survey.id,
                                                 ["size,tenure"]))
    floor_ms = _median_ms(lambda: store.aggregates.for_survey(survey.id))
    pandas_ms = _pandas_report(bench) * 1000
    name = f"score report, {bench.backend}, {size:,} responses, 9 cells + crosses"
    largest = size >= 1_000_000
    return [
        {"name": name, "value": report_ms, "unit": "ms",
         "baseline": "pandas: load the responses and group by segment",
         "baseline_value": pandas_ms,
         "note": f"report is {pandas_ms / report_ms:,.0f}x faster",
         "targets": [Goal("ratio", "<=", 0.01, text=">= 100x faster (ratio <= 0.01)")]
         if largest else []},
        {"name": f"{name}, against its floor", "value": report_ms, "unit": "ms",
         "baseline": "the floor: reading the survey's counter rows alone",
         "baseline_value": floor_ms,
         "note": "the rest is scoring, intervals, representation, the customers' voice "
                 "(at most 5,000 responses read) and the response's shape",
         "targets": [Goal("figure", "<", 100, "ms")] if largest else []},
    ]


def run():
    rows = []
    for backend in backends():
        for size in SIZES:
            shared = ready_survey(million_name(size), backend)
            if shared is not None:  # the memory bench's responses: only the staff side to add
                _population(shared.store, shared.survey, 0)
                rows += _measure(shared, size)
                continue
            with bench_survey("report bench", backend) as bench:
                _population(bench.store, bench.survey, size)
                rows += _measure(bench, size)
    return rows
