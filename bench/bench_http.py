"""Single-response POST through gunicorn vs a bare Flask endpoint on the same gunicorn
settings (2 workers x 4 threads), driven by wrk with the same body shape and connections.

This machine's speed drifts by 1.5-2x within minutes, so both servers stay up side by side and
wrk alternates between them in short rounds; the medians are compared."""

from __future__ import annotations

import json
import statistics
import random
import re
import shutil
import subprocess
from pathlib import Path


from . import servers
from .setup import backends, bench_survey

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
    from tests.factories import builtin, complete_answers

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


def _compare(backend: str) -> dict:
    with bench_survey("http bench", backend) as bench:
        script = bench.folder / "post.lua"
        script.write_text(LUA % (_answers(), bench.demo.api_key))
        env = {"STORE_URL": bench.url, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}
        conf = "survey_api/gunicorn.conf.py"
        with servers.running("survey_api:create_app()", conf, "SURVEY_API_PORT", env) as ours, \
                servers.running("bench.bare_app:create_app()", conf, "SURVEY_API_PORT", env) as bare_port:
            rounds = [(_wrk(f"http://127.0.0.1:{ours}/v1/surveys/{bench.survey.id}/responses",
                            script), _wrk(f"http://127.0.0.1:{bare_port}/bare", script))
                      for _ in range(ROUNDS)]
    api, bare = (_median([r[i] for r in rounds]) for i in (0, 1))
    return {"name": f"single-response POST, {backend} (wrk, 16 connections)",
            "value": api["rps"], "unit": "requests/s",
            "baseline": "bare Flask endpoint, same gunicorn", "baseline_value": bare["rps"],
            "note": f"median of {ROUNDS} alternating {SECONDS} s rounds; p99 {api['p99_ms']:.1f} "
                    f"ms vs {bare['p99_ms']:.1f} ms; non-2xx "
                    f"{api['non_2xx']} vs {bare['non_2xx']}; target ratio >= 0.50"}


def _median(runs: list[dict]) -> dict:
    return {"rps": statistics.median(r["rps"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs)}


def run():
    if not shutil.which("wrk"):
        print("   (skipped: wrk is not installed; scripts/install-system-packages.sh installs it)")
        return []
    return [_compare(backend) for backend in backends()]
