"""docker-compose.yml cannot run here (no Docker engine): check it stays consistent with the
Procfile that `make run` uses, and with the settings the services read."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


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
    composed = {_gunicorn_target(s["command"]) for name, s in services.items()
                if not name.startswith("mongo")}
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
        if name.startswith("mongo"):
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


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_mongo_is_healthy_only_while_it_is_a_writable_primary():
    health = " ".join(_compose()["mongo"]["healthcheck"]["test"])
    assert "db.hello().isWritablePrimary" in health and "quit(" in health
    assert "rs.status().ok" not in health  # ok before any primary exists, and after losing it


def test_the_replica_set_authenticates_with_a_key_file_and_env_credentials():
    services = _compose()
    mongo, init = services["mongo"], services["mongo-keyfile"]
    command = mongo["command"]
    keyfile = command[command.index("--keyFile") + 1]
    assert mongo["depends_on"]["mongo-keyfile"]["condition"] == "service_completed_successfully"
    made = " ".join(init["entrypoint"])
    assert "/dev/urandom" in made and "chmod 400" in made and "chown 999:999" in made
    keys_volume = next(v.split(":")[0] for v in init["volumes"])
    mounted = next(v for v in mongo["volumes"] if v.startswith(f"{keys_volume}:"))
    assert keyfile.startswith(mounted.split(":")[1] + "/") and mounted.endswith(":ro")
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_ROOT_PASSWORD:?")
    script = next(v.split(":")[0] for v in mongo["volumes"] if "docker-entrypoint-initdb.d" in v)
    assert "createUser" in (ROOT / script).read_text()
    for name, service in services.items():
        if name.startswith("mongo"):
            continue
        for variable in ("STORE_URL", "RATELIMIT_STORAGE_URI"):
            raw = service["environment"][variable]
            assert "survey:${MONGO_APP_PASSWORD:?" in raw  # from .env, required
            url = urlsplit(re.sub(r"\$\{[^}]*\}", "password", raw))  # as compose fills it in
            options = parse_qs(url.query)
            assert (url.username, url.hostname) == ("survey", "mongo")
            assert options["authSource"] == ["admin"] and options["replicaSet"] == ["rs0"]
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert required and required <= example, required - example


def test_production_seeds_no_demo_admin_key(tmp_path):
    import survey_api
    from shared.settings import Settings

    assert "seed-demo" not in _compose()["survey_api"]["command"]
    app = survey_api.create_app(Settings(
        app_env="production", store_url=f"sqlite:///{tmp_path}/p.db",
        secret_key="a-production-secret-0123", service_token="a-production-token-0123",
        webhook_poll_seconds=0))
    key_file = tmp_path / "demo-key"
    result = app.test_cli_runner().invoke(args=["seed-demo", "--key-file", str(key_file)])
    assert result.exit_code != 0 and "production" in result.output
    assert not key_file.exists()


def test_the_readme_local_mongodb_urls_reach_the_compose_member():
    """The member calls itself mongo:27017, which the host cannot resolve: a URL from the host
    must connect directly (no replica-set discovery) to the port compose publishes."""
    assert "127.0.0.1:27017:27017" in _compose()["mongo"]["ports"]
    readme = (ROOT / "README.md").read_text()
    local = re.findall(r"mongodb://[^\s'`]*localhost:27017[^\s'`]*", readme)
    assert local
    for url in local:
        options = parse_qs(urlsplit(url).query)
        assert options.get("directConnection") == ["true"], url
        assert "replicaSet" not in options, url
