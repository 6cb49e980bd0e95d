"""Starting real gunicorn servers for the benchmarks (same settings for API and baseline)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(target: str, conf: str, port_var: str, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    full_env = {**os.environ, **env, port_var: str(port), "LOG_LEVEL": "WARNING",
                "API_RATE_LIMIT": "100000000 per minute", "WEBHOOK_POLL_SECONDS": "0"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-c", conf, target], cwd=ROOT, env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except requests.RequestException:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"{target} did not start")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def running(target: str, conf: str, port_var: str, env: dict):
    """A gunicorn server for the length of a with-block; yields its port."""
    proc, port = start(target, conf, port_var, env)
    try:
        yield port
    finally:
        stop(proc)
