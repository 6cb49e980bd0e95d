"""`make run` starts the three services with honcho from the Procfile: do that for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from .helpers import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent


def test_procfile_starts_three_services_that_answer_readyz_and_stop_on_ctrl_c(tmp_path):
    ports = {"SURVEY_API_PORT": free_port(), "SCORING_PORT": free_port(),
             "PDF_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "STORE_URL": f"sqlite:///{tmp_path}/launcher.db", "WEB_CONCURRENCY": "1"}
    honcho = Path(sys.executable).parent / "honcho"
    proc = subprocess.Popen([str(honcho), "start", "-f", "Procfile"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        names = {}
        for var, port in ports.items():
            body = wait_ready(f"http://127.0.0.1:{port}/readyz").json()
            names[var] = body["service"]
        assert names == {"SURVEY_API_PORT": "survey_api", "SCORING_PORT": "scoring_service",
                         "PDF_PORT": "pdf_service"}
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = output.decode(errors="replace")
    for name in ("survey_api.1", "scoring.1", "pdf.1"):
        assert f"{name} stopped" in text, text[-2000:]
    for port in ports.values():  # nothing is left listening
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"port {port} still answers after Ctrl-C")
