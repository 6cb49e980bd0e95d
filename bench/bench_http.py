"""Single-response POST through gunicorn vs two baselines on the same gunicorn settings (2
workers x 4 threads), driven by wrk with the same body shape and connections: a bare Flask
endpoint (no write) and a minimal durable, authenticated insert (bench/bare_app.py).

This machine's speed drifts by 1.5-2x within minutes, so both servers stay up side by side and
wrk alternates between them in short rounds; the medians are compared. Measured twice: with the
default settings, and with GUNICORN_PIN_WORKERS=true (each worker on a core of its own) for
every server of the comparison alike."""

from __future__ import annotations

import contextlib
import json
import statistics
import random
import re
import shutil
import subprocess
from pathlib import Path


from . import servers
from .setup import backends, bench_survey
from .targets import Goal

SECONDS = 5
ROUNDS = 4
LUA = """
counter = 0
local answers = [[%s]]
setup = function(thread) thread:set("tid", tostring(math.random(1, 1e9))) end
init = function(args) math.randomseed(os.time() + tonumber(tid or 1)) end
request = function()
  counter = counter + 1
  local body = '{"submission_id":"wrk-' .. (tid or "0") .. '-' .. math.random(1, 1e9) .. '-' .. counter .. '","answers":' .. answers .. '}'
  return wrk.format("POST", nil, {["Content-Type"]="application/json", ["Authorization"]="Bearer %s"}, body)
end
"""


def _answers() -> str:
    from .data import builtin, complete_answers

    return json.dumps(complete_answers(builtin("how-you-buy"), random.Random(3)))


def _wrk(url: str, script: Path) -> dict:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency", "-s", str(script),
                          url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale,
            "non_2xx": int(errors.group(1)) if errors else 0}


def _compare(backend: str, pinned: bool) -> list[dict]:
    with bench_survey("http bench", backend) as bench:
        script = bench.folder / "post.lua"
        script.write_text(LUA % (_answers(), bench.demo.api_key))
        env = {"STORE_URL": bench.url, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
               "GUNICORN_PIN_WORKERS": "true" if pinned else "false"}
        conf = "survey_api/gunicorn.conf.py"
        with contextlib.ExitStack() as stack:
            ours = stack.enter_context(servers.running("survey_api:create_app()", conf,
                                                       "SURVEY_API_PORT", env))
            bare = stack.enter_context(servers.running("bench.bare_app:create_app()", conf,
                                                       "SURVEY_API_PORT", env))
            urls = [f"http://127.0.0.1:{ours}/v1/surveys/{bench.survey.id}/responses",
                    f"http://127.0.0.1:{bare}/bare"]
            if backend == "SQLite":  # the durable baseline writes with sqlite3 itself
                durable = stack.enter_context(servers.running(
                    "bench.bare_app:create_durable_app()", conf, "SURVEY_API_PORT", env))
                urls.append(f"http://127.0.0.1:{durable}/durable")
            rounds = [[_wrk(url, script) for url in urls] for _ in range(ROUNDS)]
    api, *baselines = (_median([r[i] for r in rounds]) for i in range(len(urls)))
    note = f"median of {ROUNDS} alternating {SECONDS} s rounds; p99 {api['p99_ms']:.1f} ms"
    setting = ", workers pinned to cores" if pinned else ""
    rows = [{"name": f"single-response POST, {backend} (wrk, 16 connections{setting})",
             "value": api["rps"], "unit": "requests/s",
             "baseline": "bare Flask endpoint, same gunicorn",
             "baseline_value": baselines[0]["rps"],
             "note": f"{note} vs {baselines[0]['p99_ms']:.1f} ms; non-2xx {api['non_2xx']} vs "
                     f"{baselines[0]['non_2xx']}; the framework's floor, no write"}]
    if len(baselines) == 2:
        floor = baselines[1]
        rows.append({
            "name": f"single-response POST vs a durable insert, {backend} "
                    f"(wrk, 16 connections{setting})",
            "value": api["rps"], "unit": "requests/s",
            "baseline": "key lookup + one INSERT committed (synchronous=FULL) per request, "
                        "same gunicorn", "baseline_value": floor["rps"],
            "note": f"{note} vs {floor['p99_ms']:.1f} ms; non-2xx {api['non_2xx']} vs "
                    f"{floor['non_2xx']}",
            "targets": [Goal("ratio", ">=", 1.0), Goal("p99", "<", 50, "ms")],
            "measures": {"p99": api["p99_ms"]}})
    return rows


def _median(runs: list[dict]) -> dict:
    return {"rps": statistics.median(r["rps"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs)}


def run():
    if not shutil.which("wrk"):
        print("   (skipped: wrk is not installed; scripts/install-system-packages.sh installs it)")
        return []
    return [row for backend in backends() for pinned in (False, True)
            for row in _compare(backend, pinned)]
