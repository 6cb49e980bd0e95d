"""The brief as a reader gets it: valid PDF, every number equal to the report's, and the hard
cases (long non-ASCII names, 40 segments, empty segments, no responses at all) rendering."""

from __future__ import annotations

import random
import re

from PIL import Image
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth

from pdf_service.brief import charts
from pdf_service.brief.content import confidence_of, findings_of, page_one
from pdf_service.brief.render import JOB_TITLES, SECTIONS, build_story, render_brief
from pdf_service.brief.style import INK
from pdf_service.domain import create_brief, summary_text
from scoring_service.scoring.engine import build_report
from scoring_service.scoring.model import load_model
from shared.instruments import questions_of

from tests.support.pdfcheck import page_count, page_texts, pdf_text, qpdf_check, render_pngs, words
from tests.support.populations import CONTENT, CUSTOMER, SEGMENTS, VENDOR, healthy_customer, healthy_vendor, to_cells

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
            # Each segment's row of the map by customer group carries its n.
            assert re.search(rf"{re.escape(seg['label'])}\s+{seg['n']}\s", text), seg["key"]
            for key, part in seg["alignment"]["dimensions"].items():
                assert f"{part['score']:.1f}" in printed, (seg["key"], key)
    for rec in report["recommendations"][:1]:
        assert rec["title"][:30] in text.replace("\n", " ")
    # The model's version is named on the methods page at the end, and only there.
    pages = page_texts(pdf)
    methods = next(i for i, page in enumerate(pages) if "How to read this brief" in page)
    assert "buyer-alignment version 2026.1" in words(" ".join(pages[methods:]))
    # Every one-decimal number in the brief is one the report contains (a difference may be
    # printed with a real minus sign, or as a distance without its sign).
    printed = {n.lstrip("-") for n in _numbers(text.replace("−", "-"))}
    report_numbers = {n.lstrip("-") for n in _numbers(str(report))}
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
    # Every segment asked for gets its own heading in the segment section (the sections flow
    # on, several to a page, instead of one mostly empty page each).
    sections = text.split("The segments you asked about", 1)[1]
    for key in shown:
        label = next(s["label"] for s in report["segments"] if s["key"] == key)
        assert re.search(rf"^\s*{re.escape(label)}\s*$", sections, re.M), key
    assert page_count(pdf) < 40
    suppressed = [s for s in report["segments"] if s["status"] == "suppressed"]
    assert suppressed and "Fewer than 5 responses: not shown" in text


def test_a_survey_with_no_responses_gets_a_clear_brief():
    report = _report({})
    pdf = render_brief(report)
    qpdf_check(pdf)
    text = pdf_text(pdf)
    assert "Not enough responses yet" in text and "0 customer responses" in text
    assert page_count(pdf) >= 2


# --- The brief an executive understands in 30 seconds (issue 16) ---------------------------

def _with_findings(report: dict) -> dict:
    """The report as the findings work will shape it (findings-contract.md): every
    significant comparison becomes a finding with its own sentence, the top one the headline,
    and each recommendation gains the confidence with which its rule holds. The engine now
    produces them itself: its own findings are kept when present."""
    if "findings" in report:
        return report
    findings = []
    for seg in report["segments"]:
        for c in seg.get("comparisons", []):
            if not c["significant"]:
                continue
            part = (seg["alignment"] if c["metric"] == "alignment"
                    else seg["alignment"]["dimensions"][c["metric"]])
            findings.append({
                "segment": seg["key"], "segment_label": f"Group {seg['label']}",
                "filters": seg["filters"], "metric": c["metric"],
                "metric_name": part.get("title", "Alignment"), "value": part["score"],
                "rest_value": round(part["score"] - c["difference"], 1),
                "difference": c["difference"], "interval": c["interval"],
                "p_adjusted": c["p_adjusted"], "n": seg["n"], "rest_n": c["rest_n"],
                "priority": round(abs(c["difference"]) * seg["n"] ** 0.5, 2),
                "sentence": f"In {seg['label']} the gap in {part.get('title', 'alignment')} "
                            f"is {abs(c['difference']):.1f} points against the rest.",
                "recommendation": None})
    findings.sort(key=lambda f: -f["priority"])
    return {**report, "findings": findings,
            "headline": findings[0]["sentence"] if findings else "Nothing differs.",
            "recommendations": [{**r, "confidence": 0.97} for r in report["recommendations"]]}


def _expected_first_actions(report: dict) -> list[dict]:
    """The first three recommendations with a rule and an action text not seen before."""
    rules, texts, chosen = set(), set(), []
    for rec in report["recommendations"]:
        if rec["id"] in rules or rec["action"] in texts:
            continue
        rules.add(rec["id"])
        texts.add(rec["action"])
        chosen.append(rec)
    return chosen[:3]


def _large_long_standing_gap(seed=5):
    """Large, long-standing customers want sales far later than anyone else (a cross-only gap);
    small customers leave at a form while the vendor gates all its content; staff rate their
    funnel measurement at the bottom. Three rules hold with confidence: three distinct actions."""
    rng = random.Random(seed)
    customers = []
    for tenure in SEGMENTS["tenure"]:
        for size in SEGMENTS["size"]:
            for _ in range(25):
                answers = healthy_customer(rng, tenure, size)
                if size == "large" and tenure == SEGMENTS["tenure"][-1]:
                    answers["first_contact_percent"] = rng.randint(70, 90)
                if size == "small":
                    answers["gate_tolerance"] = "never"
                customers.append(answers)
    vendors = []
    for role in ("sales", "marketing", "leadership") * 2:
        answers = healthy_vendor(rng, role, gated=CONTENT)
        answers["r2_same_story"] = 5 if role == "marketing" else 1  # two stories in-house
        for q in questions_of(VENDOR).values():
            if q.get("dimension") == "R4":
                answers[q["id"]] = 1
        vendors.append(answers)
    report = _report(to_cells(customers, vendors), crosses=[["size", "tenure"]])
    report["survey_id"] = "survey-1"
    return report


def test_page_one_is_the_answer_headline_scores_and_three_distinct_actions():
    report = _with_findings(_large_long_standing_gap())
    assert report["findings"], "the planted gap must be significant"
    pdf = render_brief(report)
    page1 = words(page_texts(pdf, layout=False)[0])
    assert words(report["headline"]) in page1
    expected = _expected_first_actions(report)
    assert len(expected) == 3
    shown = []
    for number, rec in enumerate(expected, start=1):
        assert f"{number}. {rec['title']}." in page1
        assert words(rec["action"]) in page1 and words(rec["evidence"]) in page1
        shown.append(rec["title"])
    assert len(set(shown)) == 3
    # Every finding, from single segments and crosses alike, is on the differences page.
    text = words(pdf_text(pdf, layout=False))
    differences = text.split("Where segments differ", 1)[1].split("How your selling", 1)[0]
    assert any("|" in f["segment"] for f in report["findings"])
    for f in report["findings"][:12]:
        assert f"{words(f['segment_label'])} ({f['n']})" in differences
    for rec in expected:  # how sure each action's rule is, in words the reader can weigh
        assert f"{round(100 * rec['confidence'])} % sure" in page1
    # Readiness from 6 staff is marked low confidence; alignment from 225 customers is not.
    first = page_one(report)
    assert [s["confidence"] for s in first["scores"]][1] == "low"
    assert first["scores"][0]["confidence"] != "low"
    assert page1.count("Low confidence:") == 1 and "Low confidence: only 6 staff" in page1


def test_without_findings_the_brief_falls_back_to_the_significant_comparisons():
    report = {key: value for key, value in _large_long_standing_gap().items()
              if key not in ("findings", "headline")}  # a report from before the findings
    significant = [(s["key"], c["metric"], c["difference"]) for s in report["segments"]
                   for c in s["comparisons"] if c["significant"]]
    headline, findings = findings_of(report)
    assert sorted((f["segment"], f["metric"], f["difference"]) for f in findings) == sorted(
        significant)
    top = max(significant, key=lambda s: abs(s[2]))
    assert (findings[0]["segment"], findings[0]["metric"]) == top[:2]
    label = next(s["label"] for s in report["segments"] if s["key"] == top[0])
    assert label in headline and f"{abs(top[2]):.1f}" in headline
    top_title = report["overall"]["alignment"]["dimensions"][top[1]]["title"]
    assert top_title in headline and top[1] not in headline  # in words, not the code
    page1 = words(page_texts(render_brief(report), layout=False)[0])
    assert words(headline) in page1
    # With nothing significant, the headline says so in words.
    quiet = {**report, "segments": [{**s, "comparisons": []} for s in report["segments"]]}
    assert "no customer segment differs significantly" in findings_of(quiet)[0]


def test_the_email_summary_and_metadata_say_exactly_what_page_one_says(store, tenant,
                                                                      open_survey):
    report = {**_with_findings(_large_long_standing_gap()), "survey_id": open_survey["id"]}
    brief = create_brief(store, tenant.org.id, report, "board", None)
    pdf = store.briefs.get_pdf(tenant.org.id, brief.id)
    page1 = words(page_texts(pdf, layout=False)[0])
    summary = summary_text(brief, "https://briefs.test/x")
    body = summary.split("\n\n", 1)[1].rsplit("\n\nOpen the brief", 1)[0]
    lines = [line for line in body.splitlines() if line.strip()]
    assert lines[0] == report["headline"]
    for line in lines:
        if line != "What to do first:":
            assert words(line) in page1, line
    meta = brief.metadata
    assert meta["headline"] == report["headline"]
    assert meta["top_actions"] == [r["title"] for r in _expected_first_actions(report)]
    assert summary.count("Engage the whole buying team") <= 1


def _drawings(flowables):
    for f in flowables:
        if isinstance(f, Drawing):
            yield f
        for inner in ("_content", "_flowables"):
            if isinstance(getattr(f, inner, None), list):
                yield from _drawings(getattr(f, inner))


def _string_boxes(drawing):
    for shape in drawing.getContents():
        if isinstance(shape, String):
            w = stringWidth(shape.text, shape.fontName, shape.fontSize)
            x = {"start": shape.x, "middle": shape.x - w / 2, "end": shape.x - w}[
                shape.textAnchor]
            yield shape.text, (x, shape.y - 0.2 * shape.fontSize, x + w,
                               shape.y + 0.75 * shape.fontSize)


def _assert_text_fits(drawing):
    boxes = list(_string_boxes(drawing))
    for text, (x0, y0, x1, y1) in boxes:
        assert x0 >= -0.5 and y0 >= -0.5 and x1 <= drawing.width + 0.5 and \
            y1 <= drawing.height + 0.5, f"cut: {text!r} {x0:.1f},{y0:.1f}-{x1:.1f},{y1:.1f}"
        assert not text.endswith("…"), f"shortened: {text!r}"
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            apart = (box_a[2] <= box_b[0] or box_b[2] <= box_a[0] or box_a[3] <= box_b[1]
                     or box_b[3] <= box_a[1])
            assert apart, f"overlap: {a!r} and {b!r}"
    return len(boxes)


def test_no_chart_text_is_cut_or_overlapping():
    report = _with_findings(_large_long_standing_gap())
    report["voice"] = {"recommend": {"n": 225, "detractors": {"pct": 0.0, "interval": [0.0, 1.7]},
                                     "passives": {"pct": 31.1, "interval": [25.4, 37.4]},
                                     "promoters": {"pct": 68.9, "interval": [62.6, 74.6]}},
                       "suggestions": []}
    drawings = list(_drawings(build_story(report)))
    assert len(drawings) >= 8
    assert sum(_assert_text_fits(d) for d in drawings) > 200
    # Labels crowd worst when every job sits on the same spot: they still never overlap.
    crowded = [{"item": job, "importance": 64.5 + i * 0.2, "performance": 100.0,
                "quadrant": "keep up the good work"} for i, job in enumerate(JOB_TITLES)]
    _assert_text_fits(charts.quadrant_plot(crowded, JOB_TITLES, 240, INK))


def test_the_quadrant_axes_are_fixed_at_0_to_100():
    quadrants = [{"item": "problem", "importance": 52.0, "performance": 100.0,
                  "quadrant": "keep up the good work"},
                 {"item": "explore", "importance": 74.0, "performance": 67.0,
                  "quadrant": "concentrate here"}]
    texts = [s.text for s in charts.quadrant_plot(quadrants, JOB_TITLES, 50, INK).getContents()
             if isinstance(s, String)]
    assert {"0", "100", "0%", "100%"} <= set(texts)
    assert not any(t in texts for t in ("104", "104%", "52", "74"))


def test_every_chart_figure_is_in_the_extracted_text():
    report = _report(_demo_like())
    text = pdf_text(render_brief(report)).replace("−", "-")
    overall = report["overall"]
    figures = []
    for part in list(overall["alignment"]["dimensions"].values()) + list(
            overall["readiness"]["pillars"].values()):
        figures += [part["score"], *part["interval"]]
    charts_data = overall["charts"]
    figures += charts_data["timing"]["bins_pct"]
    figures += [charts_data["timing"]["customer_median"], charts_data["timing"]["vendor_point"]]
    for key, left, right in (("content", "useful_pct", "published_pct"),
                             ("formats", "useful_pct", "published_pct"),
                             ("channels", "used_pct", "present_pct")):
        for item in charts_data[key][:10]:
            figures += [item[left], item[right]]
    for q in overall["quadrants"]:
        figures += [q["importance"], q["performance"]]
    figures += [overall["nps"]["value"], *overall["nps"]["interval"]]
    for seg in report["segments"]:
        if seg["status"] != "suppressed":
            figures += [d["score"] for d in seg["alignment"]["dimensions"].values()]
    printed = _numbers(text)
    missing = sorted({f"{f:.1f}" for f in figures} - printed)
    assert not missing, missing


def test_words_not_codes_and_no_model_id_or_path_before_the_methods_page():
    report = _report(_demo_like())
    pages = page_texts(render_brief(report))
    methods = next(i for i, page in enumerate(pages) if "How to read this brief" in page)
    for number, page in enumerate(pages[:methods], start=1):
        assert not re.search(r"\b[AR][1-8]\b", page), number
        assert "buyer-alignment" not in page and ".md" not in page and "docs/" not in page
    assert "Accuracy of our view of customers" in pages[1]
    assert "Perception gap" not in "".join(pages)
    assert "buyer-alignment version 2026.1" in words(" ".join(pages[methods:]))
    for page in pages:
        assert "0–39 misaligned / not ready" in page and "80–100 leading" in page


def test_no_action_is_repeated_and_segments_get_sections_only_for_their_findings():
    report = _with_findings(_large_long_standing_gap())
    text = words(pdf_text(render_brief(report), layout=False))
    for rec in report["recommendations"]:
        assert text.count(words(rec["action"])) <= 1, rec["action"]
        assert text.count(rec["title"] + ".") <= 1, rec["title"]
    with_findings = {f["segment"] for f in report["findings"]}
    sections = text.split("Segments with a finding of their own", 1)[1].split("Other actions")[0]
    for seg in report["segments"]:
        if seg["key"] == "overall":
            continue
        heading = f"{seg['label']} n = {seg['n']}"
        assert (heading in sections) == (seg["key"] in with_findings), seg["key"]


def _blank_share(png, top_px, bottom_px) -> float:
    """Share of the text frame's height below its last inked row."""
    with Image.open(png) as page:
        grey = page.convert("L")
        width = grey.width
        last = top_px
        for y in range(top_px, bottom_px):
            row = grey.crop((0, y, width, y + 1)).getextrema()
            if row[0] < 200:
                last = y
    return (bottom_px - last) / (bottom_px - top_px)


def test_no_page_is_mostly_empty_except_where_a_section_ends(tmp_path):
    for name, report in (("demo", _report(_demo_like())),
                         ("findings", _with_findings(_large_long_standing_gap()))):
        pdf = render_brief(report)
        pngs = render_pngs(pdf, tmp_path, name, dpi=40)
        texts = page_texts(pdf, layout=False)
        scale = 40 / 72
        top = int(20 * 72 / 25.4 * scale) + 2
        bottom = int((A4[1] - 24 * 72 / 25.4) * scale)
        ends = 0
        for number, png in enumerate(pngs, start=1):
            # The line after the running header (vendor, brief) of the next page.
            following = [line for line in texts[number].splitlines() if line.strip()][2:3] \
                if number < len(pngs) else []
            section_end = number == len(pngs) or (following and following[0] in SECTIONS)
            ends += bool(section_end)
            blank = _blank_share(png, top, bottom)
            assert section_end or blank <= 0.5, (name, number, round(blank, 2))
            if name == "findings" and number == 1:  # with three actions, page 1 is full
                assert blank <= 0.3, round(blank, 2)
        assert ends < len(pngs) - 1  # most pages are checked, not excused


def test_how_sure_a_score_is_follows_its_interval_and_n():
    report = {"suppression": {"low_confidence_below": 30}}  # the model's bands by default
    cases = [((54.5, 61.2), 240, "fair", "straddles developing and aligned"),
             ((62.0, 70.0), 240, "sure", "lies within aligned"),
             ((39.4, 76.1), 240, "low", "spans misaligned, developing and aligned"),
             ((62.0, 70.0), 11, "low", "only 11 customers")]
    for (low, high), n, level, words_expected in cases:
        sure = confidence_of(report, "alignment", {"interval": [low, high]}, n, "customers")
        assert sure["level"] == level and words_expected in sure["text"], (low, high, n)
    staff = confidence_of(report, "readiness", {"interval": [39.4, 76.1]}, 9, "staff")
    assert staff["text"] == ("Low confidence: only 9 staff; the 95 % range 39.4–76.1 spans "
                             "not ready, developing and ready.")
