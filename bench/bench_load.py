"""Steady load against survey_api and scoring_service under gunicorn: single posts, batch
posts and report reads at a fixed rate for a set time (open loop: requests are sent on
schedule whether or not earlier ones have answered), then throughput, p50/p99 and errors per
kind. Baseline: /healthz at the same total rate in the same run.

BENCH_LOAD_SECONDS (default 20) and BENCH_LOAD_RATE (single posts per second, default 40)."""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


from . import servers
from .setup import backends, bench_survey

SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "20"))
RATE = int(os.environ.get("BENCH_LOAD_RATE", "40"))


def _drive(plan: list[tuple[float, str, callable]]) -> dict[str, list]:
    """Send each (offset, kind, call) at its offset; collect (latency, ok) per kind."""
    results: dict[str, list] = {}
    lock = threading.Lock()
    start = time.perf_counter()

    def one(kind, call):
        t0 = time.perf_counter()
        try:
            ok = call()
        except requests.RequestException:
            ok = False
        with lock:
            results.setdefault(kind, []).append((time.perf_counter() - t0, ok))

    with ThreadPoolExecutor(max_workers=64) as pool:
        for offset, kind, call in plan:
            delay = start + offset - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, kind, call)
    return results


def _summary(samples: list) -> dict:
    latencies = sorted(s[0] * 1000 for s in samples)
    return {"n": len(samples), "errors": sum(not s[1] for s in samples),
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def run():
    return [row for backend in backends() for row in _steady_load(backend)]


def _steady_load(backend: str) -> list[dict]:
    from .data import builtin, complete_answers

    customer = builtin("how-you-buy")
    with bench_survey("load", backend) as bench:
        demo, survey = bench.demo, bench.survey
        env = {"STORE_URL": bench.url, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"}
        with servers.running("survey_api:create_app()", "survey_api/gunicorn.conf.py",
                             "SURVEY_API_PORT", env) as api_port, \
                servers.running("scoring_service:create_app()",
                                "scoring_service/gunicorn.conf.py", "SCORING_PORT",
                                env) as scoring_port:
            headers = {"Authorization": f"Bearer {demo.api_key}",
                       "Content-Type": "application/json"}
            base = f"http://127.0.0.1:{api_port}/v1/surveys/{survey.id}"
            report = f"http://127.0.0.1:{scoring_port}/v1/surveys/{survey.id}/report"
            rng = random.Random(5)
            pool = [complete_answers(customer, rng) for _ in range(200)]
            session = requests.Session()
            counter = iter(range(10**9))

            def single():
                body = {"submission_id": f"s{next(counter)}", "answers": rng.choice(pool)}
                return session.post(f"{base}/responses", data=json.dumps(body), headers=headers,
                                    timeout=30).status_code == 201

            def batch():
                items = [{"submission_id": f"b{next(counter)}", "answers": rng.choice(pool)}
                         for _ in range(100)]
                answer = session.post(f"{base}/responses:batch",
                                      data=json.dumps({"responses": items}), headers=headers,
                                      timeout=30)
                return answer.status_code == 200 and answer.json()["created"] == 100

            def read():
                return session.get(report, headers=headers, timeout=30).status_code == 200

            def health():
                return session.get(f"http://127.0.0.1:{api_port}/healthz",
                                   timeout=30).status_code == 200

            plan = []
            for i in range(SECONDS * RATE):
                plan.append((i / RATE, "single POST", single))
            for i in range(SECONDS * 2):
                plan.append((i / 2, "batch POST (100)", batch))
            for i in range(SECONDS * 5):
                plan.append((i / 5, "report GET", read))
            plan.sort(key=lambda p: p[0])
            results = _drive(plan)
            total_rate = RATE + 2 + 5
            baseline = _drive([(i / total_rate, "healthz", health)
                               for i in range(SECONDS * total_rate)])["healthz"]
    base = _summary(baseline)
    rows = []
    for kind, samples in results.items():
        s = _summary(samples)
        rows.append({"name": f"load, {backend}: {kind}, {SECONDS}s steady",
                     "value": s["p99"], "unit": "ms p99",
                     "baseline": "GET /healthz at the same total rate", "baseline_value": base["p99"],
                     "note": f"{s['n'] / SECONDS:.1f}/s sent and answered, p50 {s['p50']:.1f} ms, "
                             f"errors {s['errors']}"})
    return rows
