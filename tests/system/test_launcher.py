"""`make run` starts the three services with honcho from the Procfile: do that for real."""

from __future__ import annotations

import signal

import requests

from tests.support.services import Services


def test_procfile_starts_three_services_that_answer_readyz_and_stop_on_ctrl_c(tmp_path):
    services = Services(f"sqlite:///{tmp_path}/launcher.db", capture_output=True)
    try:
        names = {name: ready["service"] for name, ready in services.wait_ready().items()}
        assert names == {"survey_api": "survey_api", "scoring": "scoring_service",
                         "pdf": "pdf_service"}
        services.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        output, _ = services.process.communicate(timeout=30)
    finally:
        services.stop()
    text = output.decode(errors="replace")
    for name in ("survey_api.1", "scoring.1", "pdf.1"):
        assert f"{name} stopped" in text, text[-2000:]
    for url in services.urls.values():  # nothing is left listening
        try:
            requests.get(f"{url}/healthz", timeout=1)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"{url} still answers after Ctrl-C")
