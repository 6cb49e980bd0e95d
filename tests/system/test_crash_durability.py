"""Kill survey_api with SIGKILL under load, restart it, and check that every response it
acknowledged is stored exactly once, batches are all or nothing, and the per-cell counters
equal a recount from the stored responses. Real processes: gunicorn on the embedded store."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from shared.storage import open_store
from survey_api.demo import seed_demo
from survey_api.rebuild import recompute
from survey_api.surveys.domain import create_survey, transition

from tests.support.factories import builtin, complete_answers
from tests.support.helpers import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = builtin("how-you-buy")


def _start(db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "STORE_URL": f"sqlite:///{db}", "SURVEY_API_PORT": str(port),
           "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4", "WEBHOOK_POLL_SECONDS": "0",
           "LOG_LEVEL": "WARNING"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-c", "survey_api/gunicorn.conf.py",
                             "survey_api:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return proc


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # master and workers, no chance to clean up
    proc.wait()


def test_acknowledged_responses_survive_sigkill_exactly_once(tmp_path):
    db = tmp_path / "crash.db"
    store = open_store(f"sqlite:///{db}")
    demo = seed_demo(store, tmp_path / "key")
    survey = create_survey(store, demo.org_id, {"name": "crash", "customer_instrument": {"id": "how-you-buy", "version": 1}})
    transition(store, demo.org_id, survey.id, "open")
    store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1/surveys/{survey.id}"
    headers = {"Authorization": f"Bearer {demo.api_key}"}
    proc = _start(db, port)

    acknowledged: dict[str, dict] = {}  # submission id -> the answers that were acknowledged
    batches_sent: dict[str, list[str]] = {}
    batches_acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def single_poster(worker: int):
        rng = random.Random(worker)
        session = requests.Session()
        n = 0
        while not stop.is_set():
            sid = f"w{worker}-{n}"
            n += 1
            answers = complete_answers(CUSTOMER, rng)
            try:
                r = session.post(f"{base}/responses", headers=headers, timeout=5, json={
                    "submission_id": sid, "answers": answers})
            except requests.RequestException:
                continue  # the server died mid-request: not acknowledged
            if r.status_code in (200, 201):
                with lock:
                    acknowledged[sid] = answers

    def batch_poster():
        rng = random.Random(99)
        session = requests.Session()
        n = 0
        while not stop.is_set():
            name = f"b{n}"
            n += 1
            ids = [f"{name}-{i}" for i in range(40)]
            with lock:
                batches_sent[name] = ids
            try:
                r = session.post(f"{base}/responses:batch", headers=headers, timeout=10, json={
                    "responses": [{"submission_id": i, "answers": complete_answers(CUSTOMER, rng)}
                                  for i in ids]})
            except requests.RequestException:
                continue
            if r.status_code == 200:
                with lock:
                    batches_acknowledged.add(name)

    threads = [threading.Thread(target=single_poster, args=(w,)) for w in range(4)]
    threads.append(threading.Thread(target=batch_poster))
    for t in threads:
        t.start()
    time.sleep(2.5)
    _kill(proc)  # mid-load
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > 50 and batches_acknowledged, "the load never got going"
    print(f"acknowledged before the kill: {len(acknowledged)} single, "
          f"{len(batches_acknowledged)} batches of 40; {len(batches_sent)} batches sent")

    proc = _start(db, port)
    try:
        store = open_store(f"sqlite:///{db}")
        stored = [r.submission_id for r in store.responses.iter_survey(survey.id)]
        assert len(stored) == len(set(stored)), "a submission was stored twice"
        stored_set = set(stored)
        missing = set(acknowledged) - stored_set
        assert not missing, f"{len(missing)} acknowledged responses were lost"
        for name, ids in batches_sent.items():
            present = [i in stored_set for i in ids]
            assert all(present) or not any(present), f"batch {name} was partly stored"
            if name in batches_acknowledged:
                assert all(present), f"acknowledged batch {name} was lost"
        check = recompute(store, store.surveys.get_any(survey.id))
        assert check.matches, check.differences[:5]
        assert sum(c["n"] for c in check.cells.values()) == len(stored)
        # Retrying after the restart finds each one stored: nothing new is written.
        for sid in sorted(acknowledged)[:30]:
            again = requests.post(f"{base}/responses", headers=headers, timeout=5, json={
                "submission_id": sid, "answers": acknowledged[sid]})
            assert again.status_code == 200, again.text
        assert store.responses.count(survey.id) == len(stored)
    finally:
        _kill(proc)
