"""The executive brief: a score report in, PDF bytes out (reportlab platypus).

Every number printed is taken from the report as it is (one decimal), so a reader can check the
brief against the report, and the tests do (pdftotext).
"""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
    TableStyle,
)

from . import charts
from .style import BOLD, INK, MUTED, PAPER_TINT, REGULAR, RULE, accent, band_color, \
    register_fonts, styles

DIMENSIONS = ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
JOB_TITLES = {"problem": "Recognising the problem", "explore": "Exploring solutions",
              "requirements": "Setting requirements", "selection": "Choosing a supplier",
              "validation": "Checking the choice", "consensus": "Getting everyone on board"}
MARGIN = 18 * mm


def fmt(x) -> str:
    return "–" if x is None else f"{x:.1f}"


def interval(part: dict) -> str:
    iv = part.get("interval")
    return f"{fmt(iv[0])}–{fmt(iv[1])}" if iv and iv[0] is not None else "n/a"


# The only markup the brief's own templates use. reportlab's mini-markup also knows <img>
# (which reads any file on the server's disk) and <a>/<link> (which put any URI, javascript:
# included, in the PDF): markup from the report must never reach it, so every value passes
# through e(), and p() refuses any other tag as a bug rather than render it.
_OUR_TAGS = re.compile(r"</?(?:b|font)(?:\s+(?:name|size|color)=(?:\"[^\"<>]*\"|'[^'<>]*'))*\s*>")


def p(text: str, style) -> Paragraph:
    if "<" in _OUR_TAGS.sub("", text):
        raise ValueError(f"Unescaped markup in brief text: {text[:80]!r}")
    return Paragraph(text, style)


def e(text) -> str:
    """Escape any value from the report for reportlab's mini-markup (names may contain < or &,
    and a posted report may contain anything): every value put in a p() goes through here."""
    return escape(str(text))


class _NumberedCanvas(pdfcanvas.Canvas):
    """Draws "page N of M" and the running header once the page count is known."""

    def __init__(self, *args, header=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved = []
        self._header = header

    def showPage(self):
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self._header(self, self._pageNumber, total)
            super().showPage()
        super().save()


def render_brief(report: dict, *, audience: str = "leadership",
                 segments: list[str] | None = None) -> bytes:
    register_fonts()
    color = accent(report)
    st = styles(color)
    survey = report.get("survey") or {}
    vendor = (survey.get("branding") or {}).get("vendor_name") or "Your company"
    overall = report["overall"]
    enough = overall.get("status") != "suppressed"
    story = _cover(report, survey, vendor, audience, st, color, enough)
    if enough:
        story += _summary(report, vendor, st)
        story += _charts(report, st, color)
        story += _segment_pages(report, segments, st)
    else:
        story += _not_enough(report, st)
    story += _methodology(report, st)

    def header(canvas, number, total):
        canvas.saveState()
        width, height = A4
        if number > 1:
            canvas.setFillColor(color)
            canvas.rect(0, height - 6 * mm, width, 6 * mm, stroke=0, fill=1)
            canvas.setFillColor(INK)
            canvas.setFont(BOLD, 8.5)
            canvas.drawString(MARGIN, height - 12.5 * mm, vendor)
            canvas.setFont(REGULAR, 8.5)
            canvas.setFillColor(MUTED)
            canvas.drawRightString(width - MARGIN, height - 12.5 * mm,
                                   f"Buyer alignment brief · {audience}")
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(width - MARGIN, 10 * mm, f"Page {number} of {total}")
        canvas.drawString(MARGIN, 10 * mm,
                          f"Model {report['model']['id']} {report['model']['version']}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=20 * mm, bottomMargin=18 * mm,
                            title=f"Buyer alignment brief — {survey.get('name', '')}",
                            author=vendor, subject=f"For {audience}", creator="pdf_service")
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, header=header, **k))
    return buffer.getvalue()


def _hex(color) -> str:
    return "#" + color.hexval()[2:]


def _score_box(label: str, part: dict, st, width) -> Table:
    band = part.get("band")
    cell = [[p(f'<font size="9" color="#5b6675">{label}</font>', st["cell"])],
            [p(f'<font name="{BOLD}" size="30">{fmt(part.get("score"))}</font>', st["cell"])],
            [Spacer(1, 14)],
            [p(f'<font name="{BOLD}" color="{_hex(band_color(band))}">'
               f'{e(band or "not scored")}</font>', st["cell"])],
            [p(f'<font size="8" color="#5b6675">interval {interval(part)} · '
               f'n = {e(part.get("n"))}</font>', st["cell"])]]
    table = Table(cell, colWidths=[width])
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), PAPER_TINT),
                               ("LINEBEFORE", (0, 0), (0, -1), 4, band_color(band)),
                               ("LEFTPADDING", (0, 0), (-1, -1), 12),
                               ("TOPPADDING", (0, 0), (-1, -1), 4),
                               ("BOTTOMPADDING", (0, -1), (-1, -1), 10)]))
    return table


def _cover(report, survey, vendor, audience, st, color, enough) -> list:
    generated = report.get("generated_at", "")[:10]
    started = (survey.get("created_at") or "")[:10]
    period = e(f"{started} to {generated}" if started else generated)
    story = [Spacer(1, 30 * mm),
             p(f'<font color="{_hex(color)}">{e(vendor)}</font>', st["cover_sub"]),
             p("How your customers buy, and how well you sell to them", st["cover_title"]),
             p(e(survey.get("name", "Survey")), st["cover_sub"]),
             Spacer(1, 4),
             p(f"Prepared for: {e(audience)} · Period: {period} · "
               f"Customer responses: {e(report['responses']['customer'])} · "
               f"Staff responses: {e(report['responses']['vendor'])}", st["small"]),
             Spacer(1, 16 * mm)]
    if enough:
        width = (A4[0] - 2 * MARGIN - 10 * mm) / 2
        boxes = Table([[_score_box("Alignment: selling vs buying", report["overall"]["alignment"],
                                   st, width),
                        _score_box("Demand-generation readiness",
                                   report["overall"]["readiness"], st, width)]],
                      colWidths=[width + 5 * mm, width + 5 * mm])
        boxes.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [boxes, Spacer(1, 10 * mm),
                  p("Scores run from 0 to 100: below 40 misaligned / not ready, 40–59 "
                    "developing, 60–79 aligned / ready, 80 and above leading.", st["small"])]
    else:
        story.append(p("Not enough responses yet to score this survey.", st["h2"]))
    story.append(PageBreak())
    return story


def _biggest_gaps(overall: dict) -> list[tuple[str, dict]]:
    parts = [(f"{k} {v['title']}", v) for k, v in overall["alignment"]["dimensions"].items()
             if v.get("score") is not None]
    parts += [(f"{k} {v['title']}", v) for k, v in overall["readiness"]["pillars"].items()
              if v.get("score") is not None]
    return sorted(parts, key=lambda kv: kv[1]["score"])[:3]


def _first_actions(report: dict) -> list[dict]:
    seen, actions = set(), []
    for rec in report["recommendations"]:
        if rec["id"] not in seen:
            seen.add(rec["id"])
            actions.append(rec)
        if len(actions) == 3:
            break
    return actions


def _summary(report, vendor, st) -> list:
    overall = report["overall"]
    a, r = overall["alignment"], overall["readiness"]
    dims = overall["alignment"]["dimensions"]
    scored = [(k, v) for k, v in dims.items() if v.get("score") is not None]
    best = max(scored, key=lambda kv: kv[1]["score"]) if scored else None
    worst = min(scored, key=lambda kv: kv[1]["score"]) if scored else None
    sentences = [
        f"{e(overall['n'])} customers told us how they buy; overall, {e(vendor)}'s selling "
        f"scores {fmt(a['score'])} of 100 for alignment with that ({e(a['band'])}), and its "
        f"demand generation scores {fmt(r['score'])} for readiness ({e(r['band'])}).",
    ]
    if best and worst:
        sentences.append(
            f"The closest match is {e(best[1]['title'].lower())} ({fmt(best[1]['score'])}); "
            f"the widest gap is {e(worst[1]['title'].lower())} ({fmt(worst[1]['score'])}).")
    timing = (overall.get("charts") or {}).get("timing")
    if timing:
        sentences.append(
            f"Customers want to talk to sales once they are {fmt(timing['customer_median'])}% "
            f"of the way through buying; sales reaches them at {fmt(timing['vendor_point'])}%.")
    story = [p("Executive summary", st["h1"]), p(" ".join(sentences), st["body"]),
             p("The three biggest gaps", st["h2"])]
    rows = [[p("<b>Area</b>", st["cell"]), p("<b>Score</b>", st["cell"]),
             p("<b>Band</b>", st["cell"]), p("<b>Interval</b>", st["cell"])]]
    for name, part in _biggest_gaps(overall):
        rows.append([p(e(name), st["cell"]), p(fmt(part["score"]), st["cell"]),
                     p(e(part.get("band")), st["cell"]), p(interval(part), st["cell"])])
    story.append(_table(rows, [85 * mm, 22 * mm, 30 * mm, 35 * mm]))
    story.append(p("The first three actions", st["h2"]))
    actions = _first_actions(report)
    if not actions:
        story.append(p("No rule in the model fired: nothing stands out as a first action.",
                       st["body"]))
    for number, rec in enumerate(actions, start=1):
        story.append(KeepTogether([
            p(f"{number}. {e(rec['title'])} <font color='#5b6675'>({e(rec['segment_label'])})"
              f"</font>", st["h3"]),
            p(e(rec["action"]), st["body"]),
            p(f"Evidence: {e(rec['evidence'])}", st["small"])]))
    story.append(PageBreak())
    return story


def _table(rows, widths, header=True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), PAPER_TINT))
    table.setStyle(TableStyle(style))
    return table


def _charts(report, st, color) -> list:
    overall = report["overall"]
    shown = [s for s in report["segments"] if s["status"] != "suppressed"]
    titles = {k: v["title"] for k, v in overall["readiness"]["pillars"].items()}
    story = [p("Readiness pillars", st["h1"]),
             p("How the vendor's own staff rate each pillar, after the checks against what "
               "customers said and against disagreement among staff.", st["small"]),
             charts.readiness_spider(overall["readiness"]["pillars"], titles, color)]
    rows = [[p("<b>Pillar</b>", st["cell"]), p("<b>Score</b>", st["cell"]),
             p("<b>Self-rated</b>", st["cell"]), p("<b>Note</b>", st["cell"])]]
    for key, part in overall["readiness"]["pillars"].items():
        note = []
        if part.get("capped"):
            note.append(f"capped at customer evidence + 15 ({fmt(part.get('cap'))})")
        if part.get("consistency_penalty"):
            note.append(f"staff disagree: −{fmt(part['consistency_penalty'])}")
        rows.append([p(e(f"{key} {part['title']}"), st["cell"]), p(fmt(part["score"]), st["cell"]),
                     p(fmt(part.get("self_assessed")), st["cell"]),
                     p("; ".join(note) or "", st["cell"])])
    story += [_table(rows, [70 * mm, 18 * mm, 22 * mm, 62 * mm]), PageBreak(),
              p("Alignment by segment", st["h1"]),
              p("Each cell is a dimension's score for a segment, coloured by band. Segments "
                "with fewer than 5 responses are left out.", st["small"]),
              charts.heat_map([(s["label"], {**s["alignment"]["dimensions"],
                                             "All": s["alignment"]}) for s in shown[:40]],
                              DIMENSIONS + ["All"])]
    legend = ", ".join(f"{k} {v['title'].lower()}" for k, v in
                       overall["alignment"]["dimensions"].items())
    story.append(p(f"Dimensions: {e(legend)}.", st["small"]))
    chart_data = overall.get("charts") or {}
    if chart_data.get("timing"):
        story.append(KeepTogether([p("When buyers want to talk to sales", st["h2"]),
                                   charts.timing_distribution(chart_data["timing"], color)]))
    story.append(PageBreak())
    pairs = (("content", "Content buyers value, and what is published", "useful_pct",
              "published_pct", ("customers finding it useful", "staff saying it is published")),
             ("formats", "Formats buyers prefer, and what is published", "useful_pct",
              "published_pct", ("customers preferring it", "staff saying we publish it")),
             ("channels", "Where buyers look, and where the vendor is", "used_pct",
              "present_pct", ("customers using it", "staff saying we are present")))
    for key, title, left, right, legend in pairs:
        if chart_data.get(key):
            # A heading never stays behind at the foot of a page without its chart.
            story.append(KeepTogether([p(title, st["h2"]), charts.paired_bars(
                chart_data[key], left, right, legend, color)]))
    if overall.get("quadrants"):
        rows = [[p("<b>#</b>", st["cell"]), p("<b>Buying job</b>", st["cell"]),
                 p("<b>Importance</b>", st["cell"]), p("<b>Served as preferred</b>", st["cell"]),
                 p("<b>Quadrant</b>", st["cell"])]]
        for number, q in enumerate(overall["quadrants"], start=1):
            rows.append([p(str(number), st["cell"]), p(e(JOB_TITLES.get(q["item"], q["item"])),
                                                       st["cell"]),
                         p(fmt(q["importance"]), st["cell"]), p(f"{fmt(q['performance'])}%",
                                                                st["cell"]),
                         p(e(q["quadrant"]), st["cell"])])
        story += [PageBreak(), p("Where to concentrate: the buying jobs", st["h2"]),
                  charts.quadrant_plot(overall["quadrants"], color),
                  _table(rows, [10 * mm, 55 * mm, 25 * mm, 38 * mm, 44 * mm])]
    story.append(PageBreak())
    return story


def _segment_pages(report, wanted, st) -> list:
    segments = [s for s in report["segments"] if s["key"] != "overall"]
    if wanted:
        segments = [s for s in segments if s["key"] in wanted]
    else:
        segments = [s for s in segments if "|" not in s["key"]]
    story = []
    for seg in segments:
        block = [p(e(seg["label"]), st["h1"])]
        if seg["status"] == "suppressed":
            block.append(p(e(seg.get("note", "Too few responses to show.")), st["body"]))
            story += block + [PageBreak()]
            continue
        flag = {"insufficient": "Fewer than 10 responses: read these numbers as indications "
                                "only.",
                "low_confidence": "Fewer than 30 responses: intervals are wide."}.get(
            seg["status"])
        block.append(p(f"n = {e(seg['n'])} · alignment {fmt(seg['alignment']['score'])} "
                       f"({e(seg['alignment']['band'])}) · readiness "
                       f"{fmt(seg['readiness']['score'])} ({e(seg['readiness']['band'])})",
                       st["body"]))
        if flag:
            block.append(p(flag, st["small"]))
        rows = [[p("<b>Dimension</b>", st["cell"]), p("<b>Score</b>", st["cell"]),
                 p("<b>Band</b>", st["cell"]), p("<b>Interval</b>", st["cell"]),
                 p("<b>vs the rest</b>", st["cell"])]]
        differences = {c["metric"]: c for c in seg.get("comparisons", [])}
        for key, part in seg["alignment"]["dimensions"].items():
            c = differences.get(key)
            versus = ""
            if c:
                versus = (f"{c['difference']:+.1f}" + (" (significant)" if c["significant"]
                                                       else ""))
            rows.append([p(e(f"{key} {part['title']}"), st["cell"]),
                         p(fmt(part.get("score")), st["cell"]),
                         p(e(part.get("band") or part.get("missing", "")), st["cell"]),
                         p(interval(part), st["cell"]), p(versus, st["cell"])])
        block.append(_table(rows, [62 * mm, 18 * mm, 27 * mm, 30 * mm, 35 * mm]))
        recs = seg.get("recommendations", [])[:3]
        if recs:
            block.append(p("What to do here", st["h2"]))
            for rec in recs:
                block += [p(f"<b>{e(rec['title'])}.</b> {e(rec['action'])}", st["body"]),
                          p(f"Evidence: {e(rec['evidence'])}", st["small"])]
        story += block + [PageBreak()]
    return story


def _not_enough(report, st) -> list:
    limits = report["suppression"]
    return [p("Not enough responses yet", st["h1"]),
            p(f"This survey has {e(report['responses']['customer'])} customer responses. Scores "
              f"appear once at least {e(limits['hide_below'])} customers have answered, and are "
              f"reliable from about {e(limits['low_confidence_below'])}. Invite more customers and "
              "render this brief again.", st["body"]), PageBreak()]


def _methodology(report, st) -> list:
    weights = report["weights"]["alignment"]
    limits = report["suppression"]
    counts = ", ".join(f"{s['label']}: n = {s['n']}" for s in report["segments"]
                       if s["status"] != "suppressed")
    weight_text = ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
    return [
        p("How to read this brief", st["h1"]),
        p("<b>Where the numbers come from.</b> Customers answered a short survey about how they "
          "prefer to buy; the vendor's sales, marketing and leadership staff answered a "
          "self-assessment of how they sell. Alignment compares the two, in seven dimensions; "
          "readiness is the staff's own rating of eight demand-generation pillars, capped where "
          "customers' experience contradicts it and lowered where staff disagree with each other.",
          st["body"]),
        p(f"<b>Sample sizes.</b> {e(counts) or 'none shown'}. Segments with fewer than "
          f"{e(limits['hide_below'])} responses are never shown, to protect respondents; under "
          f"{e(limits['insufficient_below'])} they are marked as indications only; under "
          f"{e(limits['low_confidence_below'])} as low confidence.", st["body"]),
        p("<b>Intervals.</b> Every score carries a 95% interval: Wilson intervals for shares, "
          "t-intervals for means, an order-statistic interval for the median first-contact "
          "point, and the usual standard error for the net promoter score. A segment is called "
          "different from the rest only when the difference is at least 5 points and its "
          "interval excludes zero after a Holm correction for the number of comparisons made.",
          st["body"]),
        p(f"<b>Weights.</b> Alignment is a weighted mean of its dimensions ({e(weight_text)}); "
          "readiness is the mean of its pillars.", st["body"]),
        p("<b>Bands.</b> 0–39 misaligned / not ready; 40–59 developing; 60–79 aligned / ready; "
          "80–100 leading.", st["body"]),
        p(f"<b>Model.</b> {e(report['model']['id'])} version {e(report['model']['version'])}. "
          "The model is a data file: its formulas are documented in docs/scoring.md.",
          st["body"]),
        p("<b>Caveats.</b> Customers who answer surveys may differ from those who do not. The "
          "staff self-assessment is only as candid as the people who filled it in. Small "
          "segments move a lot from one survey to the next.", st["body"]),
    ]
