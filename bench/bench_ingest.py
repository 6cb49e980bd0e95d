"""Batch ingest as the API does it (envelope already parsed; answers validated by the compiled
validator, cells, counters, idempotency lookup, one transaction per 1,000) against a raw
executemany of the same rows into a bare table of the same SQLite file: the cost of
correctness."""

from __future__ import annotations

import json
import random
import tempfile
import time

from survey_api.responses.domain import ingest_batch

from .setup import open_survey

BATCH = 1000
BATCHES = 20


def run():
    from tests.factories import builtin, complete_answers

    rng = random.Random(7)
    customer = builtin("how-you-buy")
    pool = [complete_answers(customer, rng) for _ in range(300)]
    answers_per = sum(len(v) if isinstance(v, list) else 1 for v in pool[0].values())
    with tempfile.TemporaryDirectory() as tmp:
        store, demo, survey, _ = open_survey(tmp, "ingest bench")
        batches = [[{"submission_id": f"b{b}-{i}", "instrument": "customer", "complete": True,
                     "answers": pool[(b * BATCH + i) % len(pool)]} for i in range(BATCH)]
                   for b in range(BATCHES)]
        start = time.perf_counter()
        for batch in batches:
            results = ingest_batch(store, survey, batch, {})
        rate = BATCH * BATCHES / (time.perf_counter() - start)
        assert all(r["status"] == "created" for r in results)

        conn = store.conn()
        conn.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, survey_id TEXT, doc TEXT)")
        start = time.perf_counter()
        for b, batch in enumerate(batches):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO raw VALUES (?, ?, ?)",
                             [(f"{b}-{i}", survey.id, json.dumps(item["answers"]))
                              for i, item in enumerate(batch)])
            conn.execute("COMMIT")
        raw_rate = BATCH * BATCHES / (time.perf_counter() - start)
        store.close()
    return [{"name": f"batch ingest ({BATCH}/batch, {len(pool[0])} questions, "
                     f"~{answers_per} answer values)",
             "value": rate, "unit": "responses/s",
             "baseline": "raw executemany of the same rows, same file", "baseline_value": raw_rate,
             "note": "validation + cells + counters + idempotency; SQLite WAL, synchronous=FULL; "
                     "target 10,000/s"}]
