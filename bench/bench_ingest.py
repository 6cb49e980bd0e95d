"""Batch ingest, two ways.

1. In process, as a gunicorn worker runs it (envelope already parsed; answers checked by the
   compiled validator, cells, counters, idempotency lookup, one transaction per 1,000), against
   a raw insert of the same rows into a bare table of the same store (executemany into the same
   SQLite file; insert_many into a bare collection of the same MongoDB database): the cost of
   correctness. Rounds of each alternate and the medians are compared, so a slow minute on a
   shared machine hits both.
2. Over HTTP: 1,000-response batches POSTed by two clients to survey_api under gunicorn
   (2 workers x 4 threads), against the same batches ingested in process in alternating rounds
   (the target: at least 0.8 of it), and against the same bodies POSTed to a bare Flask
   endpoint that only parses them, on the same gunicorn settings.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time

import requests

from shared.gc_tuning import settle_heap
from survey_api.responses.domain import ingest_batch

from . import servers
from .setup import backends, bench_survey
from .targets import Goal

BATCH = 1000
ROUNDS = 7
BATCHES_PER_ROUND = 4
HTTP_BATCHES = 22
HTTP_ROUNDS = 5


def _pool(answered: int | None = None, n: int = 300) -> list[dict]:
    """Complete customer responses. With `answered`, each keeps every required answer and the
    first optional ones up to that many answers (the target is stated for 30-answer responses;
    the built-in instrument asks 37 questions, 27 of them required)."""
    from shared.instruments import questions_of
    from .data import builtin, complete_answers

    rng = random.Random(7)
    customer = builtin("how-you-buy")
    questions = questions_of(customer)
    required = [q for q, d in questions.items() if d.get("required")]
    optional = [q for q, d in questions.items() if not d.get("required")]
    keep = set(required + optional[:max(0, (answered or len(questions)) - len(required))])
    return [{q: v for q, v in complete_answers(customer, rng).items() if q in keep}
            for _ in range(n)]


def _raw_writer(bench):
    """Writes one batch as plain rows, in one transaction, without checks or counters."""
    if bench.backend == "SQLite":
        conn = bench.store.conn()
        conn.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, survey_id TEXT, doc TEXT)")

        def write(batch):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO raw VALUES (?, ?, ?)",
                             [(item["submission_id"], bench.survey.id,
                               json.dumps(item["answers"])) for item in batch])
            conn.execute("COMMIT")
        return write

    raw = bench.store.db.raw

    def write(batch):
        raw.insert_many([{"_id": item["submission_id"], "survey_id": bench.survey.id,
                          "answers": item["answers"]} for item in batch])
    return write


def _in_process(pool: list[dict], backend: str) -> dict:
    answers_per = sum(len(v) if isinstance(v, list) else 1 for v in pool[0].values())
    with bench_survey("ingest bench", backend) as bench:
        raw_write = _raw_writer(bench)
        settle_heap()  # as a gunicorn worker does once its app is loaded
        ours, raw = [], []
        for r in range(ROUNDS):
            batches = [[{"submission_id": f"r{r}-b{b}-{i}", "instrument": "customer",
                         "complete": True, "answers": pool[(b * BATCH + i) % len(pool)]}
                        for i in range(BATCH)] for b in range(BATCHES_PER_ROUND)]
            start = time.perf_counter()
            for batch in batches:
                results = ingest_batch(bench.store, bench.survey, batch, {})
                assert all(r["status"] == "created" for r in results)
            ours.append(BATCH * BATCHES_PER_ROUND / (time.perf_counter() - start))

            start = time.perf_counter()
            for batch in batches:
                raw_write(batch)
            raw.append(BATCH * BATCHES_PER_ROUND / (time.perf_counter() - start))
    durability = ("SQLite WAL synchronous=FULL" if backend == "SQLite"
                  else "MongoDB w=majority")
    return {"name": f"batch ingest in process, {backend} ({BATCH}/batch, {len(pool[0])} "
                    f"answers, ~{answers_per} answer values)",
            "value": statistics.median(ours), "unit": "responses/s",
            "baseline": "raw insert of the same rows, same store",
            "baseline_value": statistics.median(raw),
            "note": f"median of {ROUNDS} alternating rounds (ours {min(ours):,.0f}-"
                    f"{max(ours):,.0f}, raw {min(raw):,.0f}-{max(raw):,.0f}); validation + cells "
                    f"+ counters + idempotency, {durability}",
            "targets": [Goal("figure", ">=", 10_000, "responses/s")] if len(pool[0]) == 30
            else []}


def _post_all(url: str, bodies: list[bytes], headers: dict, clients: int = 2) -> float:
    """Responses/s for posting every body, `clients` at a time."""
    queue = list(bodies)
    lock = threading.Lock()
    failures: list[str] = []

    def client():
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            answer = session.post(url, data=body, headers=headers, timeout=120)
            if answer.status_code != 200:
                failures.append(f"{answer.status_code} {answer.text[:200]}")

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert not failures, failures[:3]
    return len(bodies) * BATCH / elapsed


def _over_http(pool: list[dict], backend: str) -> list[dict]:
    """The HTTP figure against two baselines: the same batches ingested in this process (rounds
    of each alternating, medians compared: the target is a ratio of these two), and a bare
    Flask endpoint parsing the same bodies."""
    with bench_survey("http batch bench", backend) as bench:
        bodies = [json.dumps({"responses": [
            {"submission_id": f"h{b}-{i}", "answers": pool[(b * BATCH + i) % len(pool)]}
            for i in range(BATCH)]}).encode() for b in range(HTTP_BATCHES)]
        headers = {"Authorization": f"Bearer {bench.demo.api_key}",
                   "Content-Type": "application/json"}
        env = {"STORE_URL": bench.url, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}
        conf = "survey_api/gunicorn.conf.py"
        settle_heap()
        ours, local = [], []
        with servers.running("survey_api:create_app()", conf, "SURVEY_API_PORT", env) as port:
            url = f"http://127.0.0.1:{port}/v1/surveys/{bench.survey.id}/responses:batch"
            _post_all(url, bodies[:2], headers)  # warm up: instruments compiled, caches filled
            per_round = (HTTP_BATCHES - 2) // HTTP_ROUNDS
            for r in range(HTTP_ROUNDS):
                ours.append(_post_all(url, bodies[2 + r * per_round:2 + (r + 1) * per_round],
                                      headers))
                batches = [[{"submission_id": f"p{r}-{b}-{i}", "instrument": "customer",
                             "complete": True, "answers": pool[(b * BATCH + i) % len(pool)]}
                            for i in range(BATCH)] for b in range(per_round)]
                start = time.perf_counter()
                for batch in batches:
                    ingest_batch(bench.store, bench.survey, batch, {})
                local.append(per_round * BATCH / (time.perf_counter() - start))
        with servers.running("bench.bare_app:create_app()", conf, "SURVEY_API_PORT", env) as port:
            bare = _post_all(f"http://127.0.0.1:{port}/bare-batch", bodies[2:], headers)
    name = (f"batch POST over HTTP, {backend} ({BATCH}/request, {len(pool[0])} answers, "
            f"2 clients, gunicorn 2x4)")
    figure, in_process = statistics.median(ours), statistics.median(local)
    return [{"name": name, "value": figure, "unit": "responses/s",
             "baseline": "bare Flask endpoint parsing the same bodies, same gunicorn",
             "baseline_value": bare,
             "note": "adds to the in-process figure: JSON parsing, the envelope check per item, "
                     "auth, the per-item results; both workers share the two cores"},
            {"name": name.replace("over HTTP", "over HTTP vs in process"), "value": figure,
             "unit": "responses/s",
             "baseline": "the same batches ingested in process, same store",
             "baseline_value": in_process,
             "note": f"median of {HTTP_ROUNDS} alternating rounds (HTTP {min(ours):,.0f}-"
                     f"{max(ours):,.0f}, in process {min(local):,.0f}-{max(local):,.0f})",
             "targets": [Goal("figure", ">=", 10_000, "responses/s"), Goal("ratio", ">=", 0.8)]}]


def run():
    thirty, full = _pool(answered=30), _pool()
    rows = []
    for backend in backends():
        rows += [_in_process(thirty, backend), _in_process(full, backend),
                 *_over_http(thirty, backend)]
    return rows
