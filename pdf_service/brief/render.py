"""The executive brief: a score report in, PDF bytes out (reportlab platypus).

Page 1 is the answer (headline, the two scores with how sure they are, the first three
actions); the pages after it are the evidence, each section once: where segments differ,
alignment, readiness, content and channels, the buying jobs, the customers' voice, the segments
with findings of their own, the other actions, and how to read the brief.

Every number printed is taken from the report as it is (one decimal), so a reader can check the
brief against the report, and the tests do (pdftotext). The one exception is the whiskers of
shares, 95 % intervals worked out here from the share and its n, drawn but not printed.
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
from .content import difference_text, dimension_name, distinct_actions, findings_of, fmt, \
    languages_line, page_one, signed
from .style import BOLD, INK, MUTED, PAPER_TINT, REGULAR, RULE, accent, band_color, \
    register_fonts, styles_for

DIMENSIONS = ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
JOB_TITLES = {"problem": "Recognising the problem", "explore": "Exploring solutions",
              "requirements": "Setting requirements", "selection": "Choosing a supplier",
              "validation": "Checking the choice", "consensus": "Getting everyone on board"}
MARGIN = 18 * mm
# Section titles (tests find where sections start by them).
SECTIONS = ("Where segments differ", "How your selling matches how customers buy",
            "How ready your demand generation is", "What buyers look for, and what you offer",
            "The buying jobs: where to concentrate", "What customers say",
            "Segments with a finding of their own", "The segments you asked about",
            "Other actions", "How to read this brief", "Not enough responses yet")
BAND_KEY = (("0–39", "misaligned / not ready", "misaligned"), ("40–59", "developing",
                                                               "developing"),
            ("60–79", "aligned / ready", "aligned"), ("80–100", "leading", "leading"))


def interval(part: dict) -> str:
    iv = part.get("interval")
    return f"{fmt(iv[0])}–{fmt(iv[1])}" if iv and iv[0] is not None else "n/a"


# The only markup the brief's own templates use. reportlab's mini-markup also knows <img>
# (which reads any file on the server's disk) and <a>/<link> (which put any URI, javascript:
# included, in the PDF): markup from the report must never reach it, so every value passes
# through escaped(), and paragraph() refuses any other tag as a bug rather than render it.
_OUR_TAGS = re.compile(r"</?(?:b|i|font)(?:\s+(?:name|size|color)=(?:\"[^\"<>]*\"|'[^'<>]*'))*\s*>")


def paragraph(text: str, style) -> Paragraph:
    if "<" in _OUR_TAGS.sub("", text):
        raise ValueError(f"Unescaped markup in brief text: {text[:80]!r}")
    return Paragraph(text, style)


def escaped(text) -> str:
    """Any value from the report, escaped for reportlab's mini-markup (names may contain < or &,
    and a posted report may contain anything): every value put in a paragraph() goes through
    here."""
    return escape(str(text))


def _hex(color) -> str:
    return "#" + color.hexval()[2:]


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


def _section(title: str, styles) -> list:
    """A section goes on where the last one ended (its heading kept with its first block)."""
    return [paragraph(escaped(title), styles["h1"])]


def _keep_headings(story: list) -> list:
    """Each heading, with any captions under it, kept on one page with the first block it
    introduces: no heading is left alone at the foot of a page."""
    out, group = [], []
    for flowable in story:
        style = getattr(getattr(flowable, "style", None), "name", "")
        if group or style in ("h1", "h2", "h3"):
            # A block already kept together joins the group as its parts (reportlab breaks
            # the page early before a KeepTogether nested in another).
            group += flowable._content if isinstance(flowable, KeepTogether) else [flowable]
            if style not in ("h1", "h2", "h3", "small"):
                out.append(KeepTogether(group))
                group = []
            continue
        out.append(flowable)
    return out + group


def build_story(report: dict, *, audience: str = "leadership",
                segments: list[str] | None = None) -> list:
    register_fonts()
    color = accent(report)
    styles = styles_for(color)
    survey = report.get("survey") or {}
    vendor = (survey.get("branding") or {}).get("vendor_name") or "Your company"
    enough = report["overall"].get("status") != "suppressed"
    story = _answer(report, survey, vendor, audience, styles, enough)
    if enough:
        story += _differences(report, styles)
        story += _what_changed(report, styles)
        story += _alignment(report, styles, color)
        story += _readiness(report, styles)
        story += _offer(report, styles, color)
        story += _jobs(report, styles, color)
        story += _voice(report, styles, color)
        story += _segment_sections(report, segments, styles)
        story += _other_actions(report, styles)
    else:
        story += _not_enough(report, styles)
    story += _methodology(report, styles)
    return _keep_headings(story)


def render_brief(report: dict, *, audience: str = "leadership",
                 segments: list[str] | None = None) -> bytes:
    register_fonts()
    color = accent(report)
    survey = report.get("survey") or {}
    vendor = (survey.get("branding") or {}).get("vendor_name") or "Your company"
    story = build_story(report, audience=audience, segments=segments)

    def header(canvas, number, total):
        canvas.saveState()
        width, height = A4
        canvas.setFillColor(color)
        canvas.rect(0, height - 6 * mm, width, 6 * mm, stroke=0, fill=1)
        right = f"Buyer alignment brief · {audience}"
        room = width - 2 * MARGIN - canvas.stringWidth(right, REGULAR, 8.5) - 12
        size = 8.5  # a long name gets smaller, down to 6 pt, before it is shortened
        while size > 6 and canvas.stringWidth(vendor, BOLD, size) > room:
            size -= 0.5
        name = vendor
        while canvas.stringWidth(name, BOLD, size) > room:
            name = name[:-2] + "…"
        canvas.setFillColor(INK)
        canvas.setFont(BOLD, size)
        canvas.drawString(MARGIN, height - 12.5 * mm, name)
        canvas.setFont(REGULAR, 8.5)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(width - MARGIN, height - 12.5 * mm, right)
        _footer(canvas, number, total, width)
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=20 * mm, bottomMargin=24 * mm,
                            title=f"Buyer alignment brief — {survey.get('name', '')}",
                            author=vendor, subject=f"For {audience}", creator="pdf_service")
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, header=header, **k))
    return buffer.getvalue()


def _footer(canvas, number, total, width):
    """The band key on every page (the pages colour by band), and the low-confidence key."""
    y = 15 * mm
    canvas.setFont(BOLD, 7)
    canvas.setFillColor(MUTED)
    canvas.drawString(MARGIN, y, "Bands:")
    x = MARGIN + 28
    canvas.setFont(REGULAR, 7)
    for scores, name, band in BAND_KEY:
        canvas.setFillColor(band_color(band))
        canvas.rect(x, y - 1, 7, 7, stroke=0, fill=1)
        canvas.setFillColor(INK)
        text = f"{scores} {name}"
        canvas.drawString(x + 10, y, text)
        x += 10 + canvas.stringWidth(text, REGULAR, 7) + 12
    canvas.setFillColor(MUTED)
    canvas.drawString(MARGIN, y - 11, "Pale or dashed marks: low confidence (fewer than 30 "
                                      "people, or a 95 % interval spanning three bands).")
    canvas.setFont(REGULAR, 8)
    canvas.drawRightString(width - MARGIN, y - 11, f"Page {number} of {total}")


def _score_box(score: dict, styles, width) -> Table:
    """One of page 1's two scores: what it measures, the figure and band, and how sure it is
    (a low-confidence score is greyed, framed with a dashed line and says so in red)."""
    band = score.get("band")
    low = score["confidence"] == "low"
    number, rest = score["figure"].split(" ", 1)
    sure = (f'<font name="{BOLD}" size="8" color="#c0392b">{escaped(score["sure"])}</font>' if low
            else f'<font size="8" color="#5b6675">{escaped(score["sure"])}</font>')
    cell = [[paragraph(f'<font size="9" color="#5b6675">{escaped(score["label"])}</font>',
                       styles["cell"])],
            [paragraph(f'<font name="{BOLD}" size="26" color="{"#8a97a6" if low else "#1c2430"}">'
                       f'{number}</font> <font name="{BOLD}" color="{_hex(band_color(band))}">'
                       f'{escaped(rest)}</font>', styles["score"])],
            [paragraph(sure, styles["cell"])]]
    table = Table(cell, colWidths=[width])
    style = [("BACKGROUND", (0, 0), (-1, -1), PAPER_TINT),
             ("LINEBEFORE", (0, 0), (0, -1), 4, band_color(band)),
             ("LEFTPADDING", (0, 0), (-1, -1), 10), ("TOPPADDING", (0, 0), (-1, -1), 3),
             ("BOTTOMPADDING", (0, -1), (-1, -1), 8)]
    if low:  # a dashed frame: visibly less sure than a solid one
        style.append(("BOX", (0, 0), (-1, -1), 0.8, band_color(band), None, (3, 2)))
    table.setStyle(TableStyle(style))
    return table


def _answer(report, survey, vendor, audience, styles, enough) -> list:
    """Page 1: what is wrong and what to do first."""
    first = page_one(report)
    generated = report.get("generated_at", "")[:10]
    started = (survey.get("created_at") or "")[:10]
    period = f"{started} to {generated}" if started and started != generated else generated
    story = [paragraph(f"{escaped(vendor)} · {escaped(survey.get('name', 'Survey'))} · prepared "
                       f"for {escaped(audience)} · {escaped(period)} · "
                       f"{escaped(report['responses']['customer'])} customer and "
                       f"{escaped(report['responses']['vendor'])} staff responses",
                       styles["small"]),
             paragraph(escaped(first["headline"]), styles["headline"])]
    # One score under the other: they read in order on a phone and in extracted text.
    for score in first["scores"]:
        story += [_score_box(score, styles, A4[0] - 2 * MARGIN), Spacer(1, 5)]
    if enough:
        story += _what_stands_out(report, first, styles)
    story.append(paragraph("What to do first", styles["h2"]))
    if not first["actions"]:
        story.append(paragraph("No rule in the model fired: nothing stands out as a first action.",
                               styles["body"]))
    for action in first["actions"]:
        story.append(KeepTogether([paragraph(escaped(action["title"]), styles["h3"]),
                                   paragraph(escaped(action["action"]), styles["body_tight"]),
                                   paragraph(escaped(action["evidence"]), styles["small"])]))
    story.append(PageBreak())
    return story


def _what_stands_out(report, first, styles) -> list:
    overall = report["overall"]
    others = [f for f in first["findings"] if f["sentence"] != first["headline"]][:3]
    items = [f"{escaped(f['sentence'])} <font color='#5b6675' "
             f"size='8'>({escaped(difference_text(f))})"
             "</font>" for f in others]
    dims = [(k, v) for k, v in overall["alignment"]["dimensions"].items()
            if v.get("score") is not None]
    weakest = sorted(dims, key=lambda kv: kv[1]["score"])[:3]
    if weakest:
        items.append("Weakest for all customers: " + "; ".join(
            f"{escaped(dimension_name(report, k).lower())} {fmt(v['score'])} ({escaped(v['band'])})"
            for k, v in weakest) + ".")
    if not items:
        return []
    return [paragraph("What stands out", styles["h2"])] + [
        paragraph(f"• {item}", styles["bullet"]) for item in items]


def _table(rows, widths, header=True) -> Table:
    """Cells may be Paragraphs (text that wraps) or plain strings (short figures and names,
    which reportlab lays out many times faster)."""
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
             ("FONT", (0, 0), (-1, -1), REGULAR, 8.5, 11), ("TEXTCOLOR", (0, 0), (-1, -1), INK)]
    if header:
        style.append(("FONT", (0, 0), (-1, 0), BOLD, 8.5, 11))
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), PAPER_TINT))
    table.setStyle(TableStyle(style))
    return table


def _head(cells, styles) -> list:
    return [paragraph(f"<b>{c}</b>", styles["cell"]) for c in cells]


def _differences(report, styles) -> list:
    _, findings = findings_of(report)
    story = _section("Where segments differ", styles)
    if findings:
        story.append(paragraph(
            f"{len(findings)} difference{'s' if len(findings) > 1 else ''} between a group of "
            "customers and all the others {0} large enough (5 points or more) and sure enough, "
            "after correcting for the number of comparisons made, to act on. Highest priority "
            "first.".format("is" if len(findings) == 1 else "are"), styles["body"]))
        with_rest = any(f.get("rest_value") is not None for f in findings)
        rows = [_head(["Customers (n)", "Area", "Score"] + (["Others"] if with_rest else [])
                      + ["Difference (95 % interval)"], styles)]
        for f in findings[:12]:
            rows.append([paragraph(f"{escaped(f['segment_label'])} ({f.get('n', '–')})",
                                   styles["cell"]),
                         paragraph(escaped(f["metric_name"]), styles["cell"]),
                         paragraph(fmt(f.get("value")), styles["cell"])]
                        + ([paragraph(fmt(f.get("rest_value")),
                                      styles["cell"])] if with_rest else [])
                        + [paragraph(signed(f.get("difference")) + (
                            f" ({signed(f['interval'][0])} to {signed(f['interval'][1])})"
                            if (f.get("interval") or [None])[0] is not None else ""),
                                     styles["cell"])])
        widths = [58 * mm, 44 * mm, 16 * mm] + ([16 * mm] if with_rest else []) + [
            (40 if with_rest else 56) * mm]
        story.append(_table(rows, widths))
        if len(findings) > 12:
            story.append(paragraph(f"And {len(findings) - 12} smaller differences.",
                                   styles["small"]))
    else:
        story.append(paragraph("No group of customers differs from the others by more than chance "
                               "would produce: the map below shows how alike they are.",
                               styles["body"]))
    shown = [s for s in report["segments"] if s["status"] != "suppressed"][:40]
    columns = [(k, dimension_name(report, k)) for k in DIMENSIONS] + [("All", "Overall")]
    rows = [{"label": s["label"], "n": s["n"], "low": s["status"] != "ok",
             "cells": {**s["alignment"]["dimensions"], "All": s["alignment"]}} for s in shown]
    hidden = len(report["segments"]) - len([s for s in report["segments"]
                                            if s["status"] != "suppressed"])
    story += [Spacer(1, 6), KeepTogether([
        paragraph("Alignment by customer group", styles["h2"]),
        paragraph("Every group's score in each area, coloured by band; pale rows rest on fewer "
                  f"than {report['suppression']['low_confidence_below']} customers."
                  + (f" {hidden} group(s) with fewer than {report['suppression']['hide_below']} "
                     "customers are not shown, to protect them." if hidden else ""),
                  styles["small"]),
        charts.heat_map(rows, columns)])]
    return story


def _what_changed(report, styles) -> list:
    """Only when the survey repeats an earlier wave: the significant changes since then."""
    changes = report.get("changes")
    if not changes:
        return []
    significant = changes.get("notable") or [c for c in changes["items"] if c["significant"]]
    story = _section("What changed since last time", styles)
    overall = next((c for c in changes["items"]
                    if c["segment"] == "overall" and c["metric"] == "alignment"), None)
    if overall:
        story.append(paragraph(f"Overall alignment went from {fmt(overall['previous_value'])} to "
                               f"{fmt(overall['value'])} ({signed(overall['difference'])}, 95 % "
                               f"interval {signed(overall['interval'][0])} to "
                               f"{signed(overall['interval'][1])}).",
                               styles["body"]))
    if significant:
        story.append(paragraph(
            f"{len(significant)} change{'s' if len(significant) > 1 else ''} since the previous "
            f"survey {'is' if len(significant) == 1 else 'are'} large enough (5 points or more) "
            f"and sure enough, after correcting for the {changes['examined']['comparisons']} "
            "comparisons made, to act on (a change shown for a group is not repeated for the "
            "smaller groups within it). Largest first.", styles["body"]))
        rows = [_head(["Customers (n now / before)", "Area", "Before", "Now",
                       "Change (95 % interval)"], styles)]
        for c in significant[:12]:
            rows.append([paragraph(f"{escaped(c['segment_label'])} ({c['n']} / {c['previous_n']})",
                                   styles["cell"]),
                         paragraph(escaped(c["metric_name"]), styles["cell"]),
                         paragraph(fmt(c["previous_value"]), styles["cell"]),
                         paragraph(fmt(c["value"]), styles["cell"]),
                         paragraph(f"{signed(c['difference'])} ({signed(c['interval'][0])} to "
                                   f"{signed(c['interval'][1])})", styles["cell"])])
        story.append(_table(rows, [58 * mm, 44 * mm, 16 * mm, 16 * mm, 40 * mm]))
        if len(significant) > 12:
            story.append(paragraph(f"And {len(significant) - 12} smaller changes.",
                                   styles["small"]))
    else:
        story.append(paragraph("Nothing changed by more than chance would produce since the "
                               f"previous survey ({changes['examined']['comparisons']} comparisons "
                               f"made, in {changes['examined']['segments']} groups of customers).",
                               styles["body"]))
    return story


def _alignment(report, styles, color) -> list:
    overall = report["overall"]
    n = overall["n"]
    rows = sorted(({"name": dimension_name(report, k), "score": v.get("score"),
                    "interval": v.get("interval"), "band": v.get("band"),
                    "low": v.get("n", n) < report["suppression"]["low_confidence_below"]}
                   for k, v in overall["alignment"]["dimensions"].items()),
                  key=lambda r: -(r["score"] if r["score"] is not None else -1))
    story = _section("How your selling matches how customers buy", styles)
    story.append(charts.score_bars(rows, [
        f"Seven areas, each scored 0–100 from {n} customers' answers against the staff's; "
        "best first. Bars: score, coloured by band; whiskers and brackets: 95 % interval."]))
    timing = (overall.get("charts") or {}).get("timing")
    if timing:
        story.append(KeepTogether([paragraph("When buyers want to talk to sales", styles["h2"]),
                                   charts.timing_distribution(timing, n, color)]))
    return story


def _readiness(report, styles) -> list:
    readiness = report["overall"]["readiness"]
    staff = readiness.get("vendor_respondents", readiness.get("n")) or 0
    low = staff < report["suppression"]["low_confidence_below"]
    rows = sorted(({"name": v["title"], "score": v.get("score"), "interval": v.get("interval"),
                    "band": v.get("band"), "low": low}
                   for v in readiness["pillars"].values()),
                  key=lambda r: -(r["score"] if r["score"] is not None else -1))
    story = _section("How ready your demand generation is", styles)
    caption = [f"Eight pillars as {staff} staff rated them, checked against what customers said "
               "and lowered where staff disagree; best first. Dashed line: ready (60)."]
    if low:
        caption.append(f"Low confidence: {staff} people are too few for firm scores; read the "
                       "intervals, not the bars.")
    story.append(charts.score_bars(rows, caption, ready_line=charts.READY_LINE))
    notes = []
    for part in readiness["pillars"].values():
        if part.get("capped"):
            notes.append(f"<b>{escaped(part['title'])}</b>: staff rated it "
                         f"{fmt(part.get('self_assessed'))}, but customers' experience caps it "
                         f"at {fmt(part.get('cap'))}.")
        if part.get("consistency_penalty"):
            notes.append(f"<b>{escaped(part['title'])}</b>: staff rated it "
                         f"{fmt(part.get('self_assessed'))}, but disagree with each other, which "
                         f"costs {fmt(part['consistency_penalty'])} points.")
    if notes:
        story += [paragraph("Why some pillars score below the staff's own rating", styles["h3"])]
        story += [paragraph(f"• {note}", styles["bullet"]) for note in notes]
    return story


def _offer(report, styles, color) -> list:
    overall = report["overall"]
    chart_data = overall.get("charts") or {}
    staff = overall["readiness"].get("vendor_respondents", 0) or 0
    pairs = (("content", "Content buyers value, and what is published", "useful_pct",
              "published_pct", ("customers finding it useful", "staff: we publish it")),
             ("formats", "Formats buyers prefer, and what is published", "useful_pct",
              "published_pct", ("customers preferring it", "staff: we publish it")),
             ("channels", "Where buyers look, and where you are", "used_pct",
              "present_pct", ("customers using it", "staff: we are present")))
    blocks = [KeepTogether([paragraph(title, styles["h2"]), charts.paired_bars(
        chart_data[key], left, right, legend, (overall["n"], staff), color)])
        for key, title, left, right, legend in pairs if chart_data.get(key)]
    if not blocks:
        return []
    return _section("What buyers look for, and what you offer", styles) + [
        paragraph("Share of customers who want each item beside the share of staff who say it is "
                  "offered; thin lines: 95 % intervals.", styles["small"])] + blocks


def _jobs(report, styles, color) -> list:
    quadrants = report["overall"].get("quadrants")
    if not quadrants:
        return []
    return _section("The buying jobs: where to concentrate", styles) + [
        charts.quadrant_plot(quadrants, JOB_TITLES, report["overall"]["n"], color),
        paragraph("Jobs at the lower right matter most to customers and are served least the way "
                  "they prefer: concentrate there first. The dashed lines are the averages.",
                  styles["small"])]


def _voice(report, styles, color) -> list:
    nps = report["overall"].get("nps") or {}
    voice = report.get("voice") or {}
    if nps.get("value") is None and not voice.get("suggestions"):
        return []
    story = _section("What customers say", styles)
    if nps.get("value") is not None:
        story += [paragraph("How likely they are to recommend you", styles["h2"]),
                  charts.recommend_chart(nps, voice.get("recommend"), color)]
    quotes = voice.get("suggestions") or []
    if quotes:
        story.append(paragraph("In their own words: what would make buying from you easier",
                               styles["h2"]))
        for quote in quotes:
            who = (f"customers in {escaped(quote['group'])}" if quote.get("group") else "customers")
            count = quote.get("count", 1)
            said = f"{count} {who} wrote this" if count > 1 else f"one of the {who}"
            story += [paragraph(f"“{escaped(quote['text'])}”", styles["quote"]),
                      paragraph(f"— {said}", styles["small"])]
        story.append(paragraph("Chosen by rule: the suggestions given most often, from complete "
                               "answers only, never from a group too small to show, and never "
                               "naming a group under 10 people.", styles["small"]))
    return story


def _segment_sections(report, wanted, styles) -> list:
    _, findings = findings_of(report)
    by_segment: dict[str, list] = {}
    for f in findings:
        by_segment.setdefault(f["segment"], []).append(f)
    segments = [s for s in report["segments"] if s["key"] != "overall"]
    if wanted:
        segments = [s for s in segments if s["key"] in wanted]
        title = "The segments you asked about"
    else:
        segments = [s for s in segments if s["key"] in by_segment]
        title = "Segments with a finding of their own"
    if not segments:
        return []
    story = _section(title, styles)
    for seg in segments:
        block = [paragraph(escaped(seg["label"]), styles["h2"])]
        if seg["status"] == "suppressed":
            note = seg.get("note", "Too few responses to show.")
            story.append(KeepTogether(block + [paragraph(escaped(note), styles["body"])]))
            continue
        flag = {"insufficient": " · fewer than 10 responses: indications only",
                "low_confidence": " · low confidence: fewer than 30 responses"}.get(
            seg["status"], "")
        a = seg["alignment"]
        block.append(paragraph(f"n = {seg['n']} · alignment {fmt(a['score'])} "
                               f"({escaped(a['band'])}), 95 % interval {interval(a)}{flag}",
                               styles["body_tight"]))
        for f in by_segment.get(seg["key"], []):
            block.append(paragraph(f"• {escaped(f['sentence'])}", styles["bullet"]))
        differences = {c["metric"]: c for c in seg.get("comparisons", [])}
        rows = [["Area", "Score", "Band", "95 % interval", "vs the others"]]
        for key, part in seg["alignment"]["dimensions"].items():
            c = differences.get(key)
            versus = ""
            if c:
                versus = signed(c["difference"]) + (" (significant)" if c["significant"]
                                                    else "")
            rows.append([dimension_name(report, key), fmt(part.get("score")),
                         (part.get("band") or "not scored"), interval(part), versus])
        block.append(_table(rows, [64 * mm, 18 * mm, 26 * mm, 30 * mm, 36 * mm]))
        story.append(KeepTogether(block))
    return story


def _other_actions(report, styles) -> list:
    actions = distinct_actions(report)[len(page_one(report)["actions"]):]
    if not actions:
        return []
    where: dict[str, list[str]] = {}
    for rec in report["recommendations"]:
        where.setdefault(rec["id"], []).append(
            "all customers" if rec["segment"] == "overall" else rec["segment_label"])
    story = _section("Other actions", styles)
    story.append(paragraph("What else the rules found, each once, with the group where its "
                           "evidence is strongest (the three first actions are on page 1).",
                           styles["small"]))
    for rec in actions:
        groups = where[rec["id"]]
        strongest = "all customers" if rec["segment"] == "overall" else rec["segment_label"]
        applies = "; ".join(escaped(g) for g in groups[:3]) + (
            f"; and {len(groups) - 3} more" if len(groups) > 3 else "")
        story.append(KeepTogether([
            paragraph(f"{escaped(rec['title'])}.", styles["h3"]),
            paragraph(escaped(rec["action"]), styles["body_tight"]),
            paragraph(f"Evidence ({escaped(strongest)}): {escaped(rec['evidence'])} Applies to: "
                      f"{applies}.", styles["small"])]))
    return story


def _not_enough(report, styles) -> list:
    limits = report["suppression"]
    return [paragraph("Not enough responses yet", styles["h1"]),
            paragraph(f"This survey has {report['responses']['customer']} customer responses. "
                      f"Scores appear once at least {limits['hide_below']} customers have "
                      f"answered, and are reliable from about {limits['low_confidence_below']}. "
                      "Invite more customers and render this brief again.", styles["body"]),
            PageBreak()]


def _methodology(report, styles) -> list:
    weights = report["weights"]["alignment"]
    limits = report["suppression"]
    weight_text = ", ".join(f"{dimension_name(report, k).lower()} {v:.2f}"
                            for k, v in weights.items())
    return _section("How to read this brief", styles) + [
        paragraph("<b>Where the numbers come from.</b> Customers answered a short survey about how "
                  "they prefer to buy; the vendor's sales, marketing and leadership staff answered "
                  "a self-assessment of how they sell. Alignment compares the two, in seven areas; "
                  "readiness is the staff's own rating of eight demand-generation pillars, capped "
                  "where customers' experience contradicts it and lowered where staff disagree "
                  "with each other.",
                  styles["body"]),
        paragraph(f"<b>Sample sizes.</b> Every chart and table gives its n. Groups with fewer than "
                  f"{limits['hide_below']} responses are never shown, to protect respondents; "
                  f"under {limits['insufficient_below']} they are indications only; under "
                  f"{limits['low_confidence_below']}, or when a score's 95 % interval spans three "
                  "bands, they are marked low confidence (pale or dashed, and said in words).",
                  styles["body"]),
        paragraph("<b>Intervals.</b> Every score carries a 95% interval: Wilson intervals for "
                  "shares (the whiskers on the share charts are worked out from each share and its "
                  "n), t-intervals for means, an order-statistic interval for the median "
                  "first-contact point, and the usual standard error for the net promoter score. A "
                  "group is called different from the others only when the difference is at least "
                  "5 points and its interval excludes zero after correcting for the number of "
                  "comparisons made.",
                  styles["body"]),
        paragraph(f"<b>Weights.</b> Alignment is a weighted mean of its areas "
                  f"({escaped(weight_text)}); "
                  "readiness is the mean of its pillars. “Accuracy of our view of customers” is "
                  "100 minus the average gap between what staff predicted customers would say and "
                  "what they said: higher is better.", styles["body"]),
        paragraph("<b>Bands.</b> 0–39 misaligned / not ready; 40–59 developing; 60–79 aligned / "
                  "ready; 80–100 leading.", styles["body"]),
        paragraph("<b>Customers' words.</b> At most three suggestions are quoted: those given most "
                  "often, from complete customer answers only, never from a group too small to "
                  "show, never one carrying an e-mail address, web address or long number, and "
                  f"attributed to a group only when it has at least {limits['insufficient_below']} "
                  "customers.",
                  styles["body"]),
        paragraph(f"<b>Model.</b> Scored with the model {escaped(report['model']['id'])} version "
                  f"{escaped(report['model']['version'])}; the model is a data file whose formulas "
                  "are documented with the scoring service.", styles["body"]),
        paragraph("<b>Who answered.</b> " + escaped((report.get("weighting") or {}).get(
            "note", "Unweighted: every respondent counts once."))
                  + ("" if not (report.get("representation") or {}).get("warning") else
                     " " + escaped(report["representation"]["warning"])), styles["body"]),
        *([paragraph("<b>Languages.</b> " + escaped(languages_line(report)), styles["body"])]
          if languages_line(report) else []),
        paragraph("<b>Caveats.</b> Customers who answer surveys may differ from those who do not. "
                  "The staff self-assessment is only as candid as the people who filled it in. "
                  "Small groups move a lot from one survey to the next.", styles["body"]),
    ]
