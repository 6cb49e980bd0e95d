"""The admin CLI says which store it uses, with any password hidden, and opens the same store
as `make run` wherever it is typed (issue 14, item 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared import ids
from shared.settings import load_settings
from shared.storage import shown_store_url

ROOT = Path(__file__).resolve().parents[2]


def test_commands_name_the_store_on_stderr_and_keep_stdout_for_their_answer(runner, settings):
    result = runner.invoke(args=["create-org", "Initech"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"store: {settings.store_url}"
    org_id = result.stdout.strip()
    assert len(org_id) == 32 and "store" not in result.stdout


def test_passwords_never_show():
    assert shown_store_url("mongodb://app:s3cret@db1:27017,db2:27017/survey?replicaSet=rs0") == \
        "mongodb://app:***@db1:27017,db2:27017/survey?replicaSet=rs0"
    assert shown_store_url("mongodb+srv://app:p%40ss@cluster.example.net/survey") == \
        "mongodb+srv://app:***@cluster.example.net/survey"
    assert shown_store_url("mongodb://db:27017/survey") == "mongodb://db:27017/survey"
    assert shown_store_url("sqlite:////srv/data/survey.db") == "sqlite:////srv/data/survey.db"


def test_make_run_and_the_cli_share_one_default_store():
    # Neither `make run` (Makefile, Procfile) nor the CLI sets STORE_URL: all use the default.
    for launcher in ("Makefile", "Procfile"):
        assert "STORE_URL" not in (ROOT / launcher).read_text(), launcher
    assert load_settings({}).store_url == "sqlite:///var/survey.db"
    assert shown_store_url("sqlite:///var/survey.db") == f"sqlite:///{ROOT}/var/survey.db"


def test_a_relative_sqlite_path_is_in_the_project_wherever_the_cli_runs(tmp_path):
    name = f"var/cli-test-{ids.new_id()}.db"
    env = {**os.environ, "STORE_URL": f"sqlite:///{name}", "APP_ENV": "test",
           "WEBHOOK_POLL_SECONDS": "0"}
    flask = Path(sys.executable).parent / "flask"
    try:
        done = subprocess.run([str(flask), "--app", "survey_api", "create-org", "Elsewhere"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"store: sqlite:///{ROOT / name}" in done.stderr
        assert (ROOT / name).exists() and not (tmp_path / name).exists()
    finally:
        for leftover in (ROOT / "var").glob(Path(name).name + "*"):
            leftover.unlink()
