"""docker-compose.yml cannot run here (no Docker engine): check it stays consistent with the
Procfile that `make run` uses, and with the settings the services read."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _procfile_commands() -> dict[str, str]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, command = line.split(":", 1)
        commands[name] = command.strip()
    return commands


def _gunicorn_target(command: str) -> tuple[str, str]:
    match = re.search(r"gunicorn -c (\S+) [\"']?([\w.]+:create_app\(\))", command)
    assert match, command
    return match.group(1), match.group(2)


def test_compose_runs_the_same_gunicorn_configs_and_apps_as_make_run():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    procfile = {_gunicorn_target(c) for c in _procfile_commands().values()}
    composed = {_gunicorn_target(s["command"]) for name, s in services.items() if name != "mongo"}
    assert composed == procfile
    for conf, _ in procfile:
        assert (ROOT / conf).is_file()


def test_compose_waits_for_a_healthy_mongodb_replica_set():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    mongo = services["mongo"]
    assert "--replSet" in mongo["command"] and mongo["healthcheck"]["test"]
    assert any(v.startswith("mongo-data:") for v in mongo["volumes"])
    settings_vars = {f.name.upper() for f in fields(Settings)}
    for name, service in services.items():
        if name == "mongo":
            continue
        assert service["depends_on"]["mongo"]["condition"] == "service_healthy"
        env = service["environment"]
        assert env["STORE_URL"].startswith("mongodb://") and "replicaSet=" in env["STORE_URL"]
        assert env["APP_ENV"] == "production"
        assert set(env) <= settings_vars, set(env) - settings_vars  # no misspelled variables
        assert "readyz" in " ".join(service["healthcheck"]["test"])


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    for f in fields(Settings):
        assert f"`{f.name.upper()}`" in readme, f.name


def test_gunicorn_workers_freeze_their_loaded_heap_and_collect_young_objects_less_often():
    """Each worker calls shared.gc_tuning.settle_heap once its app is loaded (run in a child
    process: freezing the test process's heap would keep its garbage alive)."""
    probe = (
        "import gc, runpy\n"
        "conf = runpy.run_path('survey_api/gunicorn.conf.py')\n"
        "before = gc.get_freeze_count()\n"
        "conf['post_worker_init'](None)\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    before, frozen, young = map(int, out)
    assert before == 0 and frozen > 1_000  # everything loaded so far, frozen
    assert young == 50_000
