"""Batch ingest into SQLite through the store (idempotency lookup + counters in the same
transaction) vs a raw executemany of the same rows into a bare table: the cost of correctness."""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from shared import ids
from shared.storage import NewResponse, Organization, Response, Survey, open_store, utc_now

BATCH = 1000
BATCHES = 20
QUESTIONS = 30


def _batches(org_id, survey_id, rng):
    out = []
    for b in range(BATCHES):
        batch = []
        for i in range(BATCH):
            answers = {f"q{q}": rng.randint(1, 5) for q in range(QUESTIONS)}
            cell = f"size={rng.choice(['small', 'midsize', 'large'])}"
            r = Response(id=ids.new_id(), org_id=org_id, survey_id=survey_id,
                         instrument="customer", submission_id=f"b{b}-{i}", answers=answers,
                         attributes={"size": cell[5:]}, cell_key=cell, content_hash="h")
            counters = {"n": 1, **{f"{q}={v}": 1 for q, v in answers.items()}}
            batch.append(NewResponse(r, counters))
        out.append(batch)
    return out


def run():
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        org = store.organizations.add(Organization(ids.new_id(), "bench", utc_now()))
        survey = store.surveys.add(Survey(id=ids.new_id(), org_id=org.id, name="bench",
                                          status="open", customer_instrument={},
                                          vendor_instrument={}))
        batches = _batches(org.id, survey.id, rng)
        start = time.perf_counter()
        for batch in batches:
            store.responses.add_many(batch)
        store_rate = BATCH * BATCHES / (time.perf_counter() - start)

        raw = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("CREATE TABLE responses (id TEXT PRIMARY KEY, survey_id TEXT, doc TEXT)")
        start = time.perf_counter()
        for batch in batches:
            raw.execute("BEGIN")
            raw.executemany("INSERT INTO responses VALUES (?, ?, ?)",
                            [(n.response.id, n.response.survey_id,
                              json.dumps(n.response.answers)) for n in batch])
            raw.execute("COMMIT")
        raw_rate = BATCH * BATCHES / (time.perf_counter() - start)
        store.close()
        raw.close()
    return [{"name": f"store add_many ({BATCH}/batch, {QUESTIONS} answers)",
             "value": store_rate, "unit": "responses/s",
             "baseline": "raw executemany, no lookups or counters", "baseline_value": raw_rate,
             "note": "SQLite, WAL, synchronous=FULL"}]
