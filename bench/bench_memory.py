"""Memory while ingesting and then exporting many responses: it must not grow with the count.
RSS is sampled at a quarter and at the end of each phase; the baseline is the same process's
RSS before the phase starts. BENCH_MEMORY_N sets the count (default 1,000,000)."""

from __future__ import annotations

import os
import random
import time

from survey_api.responses.domain import context_for, ingest_prepared, prepare
from survey_api.responses.export import csv_rows

from .setup import backends, million_name, shared_survey
from .targets import FLAT_MB, Goal

_FLAT = Goal("growth", "<=", FLAT_MB, "MB", f"flat (growth <= {FLAT_MB:g} MB)")

N = int(os.environ.get("BENCH_MEMORY_N", "1000000"))
BATCH = 1000


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run():
    return [row for backend in backends() for row in _memory(backend)]


def _memory(backend: str) -> list[dict]:
    from .data import builtin, complete_answers

    customer = builtin("how-you-buy")
    rng = random.Random(11)
    pool = [complete_answers(customer, rng) for _ in range(200)]
    # Kept open for the report bench, whose largest dataset this is (ingested once per run).
    bench = shared_survey(million_name(N), backend)
    store, survey = bench.store, bench.survey
    ctx = context_for(store, survey)
    before_ingest = _rss_mb()
    samples = {}
    start = time.perf_counter()
    for b in range(N // BATCH):
        ready = [prepare(ctx, {"submission_id": f"m{b}-{i}", "instrument": "customer",
                               "complete": True, "answers": pool[(b + i) % len(pool)]},
                         "import") for i in range(BATCH)]
        ingest_prepared(ctx, ready)
        done = (b + 1) * BATCH
        if done in (N // 4, N):
            samples[done] = _rss_mb()
    ingest_seconds = time.perf_counter() - start

    before_export = _rss_mb()
    exported = 0
    export_samples = {}
    start = time.perf_counter()
    for line in csv_rows(store.responses.iter_survey(survey.id, instrument="customer"),
                         customer, ctx.segment_names["customer"]):
        exported += 1
        if exported in (N // 4, N):
            export_samples[exported] = _rss_mb()
    export_seconds = time.perf_counter() - start
    quarter, full = samples[N // 4], samples[N]
    e_quarter, e_full = export_samples[N // 4], export_samples[N]
    return [
        {"name": f"memory while ingesting {N:,} responses, {backend}", "value": full, "unit": "MB RSS",
         "baseline": "RSS before ingesting", "baseline_value": before_ingest,
         "note": f"{quarter:.0f} MB at {N // 4:,}, {full:.0f} MB at {N:,} (growth "
                 f"{full - quarter:+.0f} MB over the last 3/4); {N / ingest_seconds:,.0f}/s",
         "targets": [_FLAT], "measures": {"growth": full - quarter}},
        {"name": f"memory while exporting {N:,} responses (CSV), {backend}", "value": e_full,
         "unit": "MB RSS", "baseline": "RSS before exporting", "baseline_value": before_export,
         "note": f"{e_quarter:.0f} MB at {N // 4:,} rows, {e_full:.0f} MB at {N:,} (growth "
                 f"{e_full - e_quarter:+.0f} MB); {N / export_seconds:,.0f} rows/s",
         "targets": [_FLAT], "measures": {"growth": e_full - e_quarter}},
    ]
