"""The brief's "What changed since last time" section: there only when the report carries a
previous wave, with the report's own figures; and it says whether figures are weighted."""

from __future__ import annotations

from pdf_service.brief.render import render_brief
from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model
from scoring_service.scoring.waves import wave_changes

from tests.support.pdfcheck import pdf_text, qpdf_check, render_pngs, words
from tests.support.populations import CUSTOMER, SEGMENTS, population, population_answers, to_cells

MODEL = load_model()
NAMES = ["size", "tenure"]


def late_in_large(answers, rng):
    if answers["company_size"] == "large":
        answers["first_contact_percent"] = min(100, max(0, int(rng.gauss(70, 6))))


def _report(cells):
    report = build_report(cells, model=MODEL, customer_definition=CUSTOMER, segments=SEGMENTS,
                          customer_names=NAMES)
    report["survey"] = {"name": "Wave two", "branding": {"vendor_name": "Acme"}}
    return report


def test_the_brief_shows_what_changed_only_when_a_previous_wave_exists(tmp_path):
    before = population(41, per_cell=20)
    now = to_cells(*population_answers(42, per_cell=20, plant=late_in_large))
    plain = _report(now)
    text = words(pdf_text(render_brief(plain)))
    assert "What changed since last time" not in text
    assert "Unweighted" in text
    report = _report(now)
    report["changes"] = wave_changes(now, before, model=MODEL, customer_definition=CUSTOMER,
                                     segments=SEGMENTS, customer_names=NAMES,
                                     previous_survey="w1")
    pdf = render_brief(report)
    qpdf_check(pdf)
    text = words(pdf_text(pdf))
    assert "What changed since last time" in text
    top = next(c for c in report["changes"]["items"] if c["significant"])
    assert top["filters"].get("size") == "large" and top["metric"] == "A1"
    assert f"{top['previous_value']:.1f}" in text and f"{top['value']:.1f}" in text
    assert render_pngs(pdf, tmp_path, "changes")
