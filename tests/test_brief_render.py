"""The brief as a reader gets it: valid PDF, every number equal to the report's, and the hard
cases (long non-ASCII names, 40 segments, empty segments, no responses at all) rendering."""

from __future__ import annotations

import random
import re

from PIL import Image

from pdf_service.brief.render import render_brief
from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model

from .pdfcheck import page_count, pdf_text, qpdf_check, render_pngs
from .populations import CUSTOMER, SEGMENTS, healthy_customer, healthy_vendor, to_cells

VENDOR_NAME = "Łódź Ünïcode Ωmega Software & Søns <Nordic> — " + "Enterprise " * 6


def _report(cells, segments=SEGMENTS, names=("size", "tenure"), crosses=()):
    report = build_report(cells, model=load_model(), customer_definition=CUSTOMER,
                          segments=segments, customer_names=list(names), crosses=list(crosses))
    report["survey"] = {"name": "Customer buying survey 2026 — ÆØÅ edition",
                        "branding": {"vendor_name": VENDOR_NAME, "accent_color": "#0b7285"},
                        "created_at": "2026-09-01T00:00:00Z"}
    return report


def _demo_like(seed=1, per_cell=20, regions=None):
    rng = random.Random(seed)
    customers = []
    for tenure in SEGMENTS["tenure"]:
        for size in SEGMENTS["size"]:
            for _ in range(per_cell):
                answers = healthy_customer(rng, tenure, size)
                if size == "large":
                    answers["first_contact_percent"] = rng.randint(55, 90)
                customers.append(answers)
    vendors = [healthy_vendor(rng, role) for role in ("sales", "marketing", "leadership")]
    return to_cells(customers, vendors)


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"-?\d+\.\d", text))


def test_a_full_brief_is_valid_and_every_number_is_the_reports(tmp_path):
    report = _report(_demo_like())
    pdf = render_brief(report, audience="board")
    qpdf_check(pdf)
    assert page_count(pdf) >= 6
    text = pdf_text(pdf)
    printed = _numbers(text)
    overall = report["overall"]
    assert f"{overall['alignment']['score']:.1f}" in printed
    assert f"{overall['readiness']['score']:.1f}" in printed
    for part in list(overall["alignment"]["dimensions"].values()) + list(
            overall["readiness"]["pillars"].values()):
        assert f"{part['score']:.1f}" in printed, part["title"]
    for seg in report["segments"]:
        if seg["key"] != "overall" and "|" not in seg["key"]:
            assert f"n = {seg['n']}" in text
            for key, part in seg["alignment"]["dimensions"].items():
                assert f"{part['score']:.1f}" in printed, (seg["key"], key)
    for rec in report["recommendations"][:1]:
        assert rec["title"][:30] in text.replace("\n", " ")
    assert "Model buyer-alignment 2026.1" in text
    # Every one-decimal number in the brief is one the report contains.
    report_numbers = _numbers(str(report))
    stray = printed - report_numbers
    assert not stray, sorted(stray)[:20]


def test_names_with_any_characters_render_and_extract(tmp_path):
    pdf = render_brief(_report(_demo_like(seed=2)))
    text = pdf_text(pdf)
    assert "Łódź Ünïcode Ωmega Software & Søns <Nordic>" in text
    assert "ÆØÅ edition" in text
    pages = render_pngs(pdf, tmp_path, "names")
    with Image.open(pages[1]) as page:  # the header band is drawn in the accent colour
        assert page.getpixel((page.width // 2, 3))[:3] == (0x0b, 0x72, 0x85)


def test_forty_segments_and_empty_ones_render():
    rng = random.Random(3)
    regions = [f"region_{i:02d}" for i in range(40)]
    customers = []
    for i in range(400):
        answers = healthy_customer(rng, rng.choice(SEGMENTS["tenure"]),
                                   rng.choice(SEGMENTS["size"]))
        customers.append(answers)
    cells = to_cells(customers, [healthy_vendor(rng, "sales")])
    # Spread the customers over 40 regions (some get fewer than 5: suppressed).
    spread = {}
    for key, counters in cells.items():
        if key.startswith("customer|"):
            region = regions[len(spread) % 40]
            spread[key.replace("customer|", f"customer|region={region}|")] = counters
        else:
            spread[key] = counters
    segments = {**SEGMENTS, "region": regions}
    report = _report(spread, segments, ("region", "size", "tenure"))
    shown = [s["key"] for s in report["segments"] if s["key"].startswith("region")]
    assert len(shown) == 40
    pdf = render_brief(report, segments=shown)
    qpdf_check(pdf)
    text = pdf_text(pdf)
    assert page_count(pdf) >= 40
    suppressed = [s for s in report["segments"] if s["status"] == "suppressed"]
    assert suppressed and "Fewer than 5 responses: not shown" in text


def test_a_survey_with_no_responses_gets_a_clear_brief():
    report = _report({})
    pdf = render_brief(report)
    qpdf_check(pdf)
    text = pdf_text(pdf)
    assert "Not enough responses yet" in text and "0 customer responses" in text
    assert page_count(pdf) >= 2
