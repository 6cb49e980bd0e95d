"""The CSV import command: export's format in, rejected rows with reasons out, resumable."""

from __future__ import annotations

import csv
import random

from shared.extensions import get_store

from tests.support.factories import builtin, complete_answers

CUSTOMER = builtin("how-you-buy")


def _write_csv(path, rows):
    questions = [q["id"] for s in CUSTOMER["sections"] for q in s["questions"]]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["submission_id", "segment_region"] + questions)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (";".join(v) if isinstance(v, list) else v)
                             for k, v in row.items()})


def test_import_stores_valid_rows_and_explains_rejected_ones(runner, app, open_survey, tmp_path):
    rng = random.Random(11)
    rows = [{"submission_id": f"h{i}", "segment_region": "emea",
             **complete_answers(CUSTOMER, rng)} for i in range(30)]
    rows[3]["nps"] = "eleven"
    rows[7]["segment_region"] = "moon"
    rows[9]["suggestion"] = "'=SUM(A1:A9)"  # as our own export writes a formula-like text
    source = tmp_path / "history.csv"
    _write_csv(source, rows)
    result = runner.invoke(args=["import-responses", open_survey["id"], str(source),
                                 "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    assert "28 created, 0 already stored, 0 conflicting, 2 rejected" in result.output
    rejects = list(csv.DictReader((tmp_path / "history.csv.rejects.csv").open()))
    assert [(r["line"], r["submission_id"], r["field"]) for r in rejects] == [
        ("5", "h3", "answers.nps"), ("9", "h7", "attributes.region")]
    with app.app_context():
        store = get_store()
        stored = {r.submission_id: r for r in store.responses.iter_survey(open_survey["id"])}
        assert len(stored) == 28 and stored["h0"].source == "import"
        assert stored["h9"].answers["suggestion"] == "=SUM(A1:A9)"
        assert sorted(stored["h1"].answers["content_useful"]) == sorted(
            rows[1]["content_useful"])
        assert sum(c["n"] for c in store.aggregates.for_survey(open_survey["id"]).values()) == 28

    # Running again finds everything stored: nothing is duplicated.
    again = runner.invoke(args=["import-responses", open_survey["id"], str(source)])
    assert "0 created, 28 already stored" in again.output


def test_an_interrupted_import_resumes_from_its_checkpoint(runner, app, open_survey, tmp_path):
    rng = random.Random(12)
    rows = [{"submission_id": f"r{i}", **complete_answers(CUSTOMER, rng)} for i in range(20)]
    source = tmp_path / "part.csv"
    _write_csv(source, rows)
    (tmp_path / "part.csv.checkpoint").write_text("12")  # as left by a run killed mid-way
    result = runner.invoke(args=["import-responses", open_survey["id"], str(source)])
    assert result.exit_code == 0, result.output
    assert "8 created" in result.output and "12 done by an earlier run" in result.output
    assert not (tmp_path / "part.csv.checkpoint").exists()
    with app.app_context():
        stored = [r.submission_id for r in get_store().responses.iter_survey(open_survey["id"])]
    assert stored == [f"r{i}" for i in range(12, 20)]


def test_unknown_survey_is_a_clear_error(runner, tmp_path):
    source = tmp_path / "x.csv"
    source.write_text("submission_id\n")
    result = runner.invoke(args=["import-responses", "nope", str(source)])
    assert result.exit_code != 0 and "no survey nope" in result.output
