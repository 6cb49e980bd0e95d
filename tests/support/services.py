"""The three services as real processes, started from the Procfile as `make run` does, each on
a free port, with every service told where the others are."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.support.helpers import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
PORT_VARIABLES = {"survey_api": "SURVEY_API_PORT", "scoring": "SCORING_PORT", "pdf": "PDF_PORT"}
URL_VARIABLES = {"survey_api": "SURVEY_API_URL", "scoring": "SCORING_URL", "pdf": "PDF_URL"}


class Services:
    """honcho running the Procfile: `urls` by service (survey_api, scoring, pdf)."""

    def __init__(self, store_url: str, env: dict | None = None, capture_output: bool = False):
        ports = {name: free_port() for name in PORT_VARIABLES}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        full_env = {**os.environ, "STORE_URL": store_url, "WEB_CONCURRENCY": "1",
                    **{PORT_VARIABLES[name]: str(port) for name, port in ports.items()},
                    **{URL_VARIABLES[name]: url for name, url in self.urls.items()},
                    **(env or {})}
        honcho = Path(sys.executable).parent / "honcho"
        output = subprocess.PIPE if capture_output else subprocess.DEVNULL
        # A session of its own, so that stopping reaches honcho's children too.
        self.process = subprocess.Popen(
            [str(honcho), "start", "-f", "Procfile"], cwd=ROOT, env=full_env, stdout=output,
            stderr=subprocess.STDOUT if capture_output else subprocess.DEVNULL,
            start_new_session=True)

    def wait_ready(self) -> dict:
        """Each service's /readyz answer (JSON), once all three answer 200."""
        return {name: wait_ready(f"{url}/readyz").json() for name, url in self.urls.items()}

    def stop(self) -> None:
        """Ctrl-C, as a developer stops `make run`; killed if not gone in 30 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def running_services(store_url: str, env: dict | None = None) -> Iterator[Services]:
    """The three services, ready, for the length of a with-block."""
    services = Services(store_url, env)
    try:
        services.wait_ready()
        yield services
    finally:
        services.stop()
