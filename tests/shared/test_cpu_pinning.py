"""GUNICORN_PIN_WORKERS: each worker on a core of its own, round robin, and a worker started
again takes the core of the one it replaces. Real gunicorn processes, affinity read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from shared.cpu_pinning import SLOT, choose_slot, core_for
from tests.support.helpers import free_port, wait_ready, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_slots_fill_the_lowest_free_one_first():
    workers = [SimpleNamespace() for _ in range(3)]
    assert [choose_slot(w, workers[:i]) for i, w in enumerate(workers)] == [0, 1, 2]
    replacement = SimpleNamespace()  # the worker in slot 1 died; its replacement takes slot 1
    assert choose_slot(replacement, [workers[0], workers[2]]) == 1
    assert getattr(replacement, SLOT) == 1


def test_slots_go_round_robin_over_the_allowed_cores():
    assert [core_for(slot, {4, 2, 7}) for slot in range(5)] == [2, 4, 7, 2, 4]


def _allowed_cores(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return sorted(int(pid) for pid in out.split())


@pytest.mark.parametrize("pinned", [True, False])
def test_gunicorn_workers_run_on_distinct_cores_only_when_asked(tmp_path, pinned):
    allowed = sorted(os.sched_getaffinity(0))
    port = free_port()
    env = {**os.environ, "STORE_URL": f"sqlite:///{tmp_path / 'pin.db'}",
           "SURVEY_API_PORT": str(port), "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "2",
           "WEBHOOK_POLL_SECONDS": "0", "LOG_LEVEL": "WARNING",
           "GUNICORN_PIN_WORKERS": "true" if pinned else "false"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    master = subprocess.Popen([str(gunicorn), "-c", "survey_api/gunicorn.conf.py",
                               "survey_api:create_app()"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz")
        wait_until(lambda: len(_workers(master.pid)) == 2, timeout=30)
        first, second = _workers(master.pid)
        if not pinned:
            assert _allowed_cores(first) == _allowed_cores(second) == set(allowed)
            return
        cores = [_allowed_cores(pid) for pid in (first, second)]
        assert all(len(c) == 1 for c in cores)
        expected = {allowed[0], allowed[1 % len(allowed)]}
        assert cores[0] | cores[1] == expected
        assert _allowed_cores(master.pid) == set(allowed)  # the master itself is not pinned

        # A worker that dies is started again on the core it had: the workers stay spread.
        lost_core = _allowed_cores(first)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(_workers(master.pid)) == 2 and first not in _workers(master.pid),
                   timeout=30)
        replacement = next(pid for pid in _workers(master.pid) if pid != second)
        wait_ready(f"http://127.0.0.1:{port}/readyz")
        assert _allowed_cores(replacement) == lost_core
        assert _allowed_cores(second) == cores[1]
    finally:
        os.killpg(master.pid, signal.SIGTERM)
        master.wait(timeout=30)
