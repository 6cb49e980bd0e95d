"""Vector charts for the brief (reportlab.graphics), drawn from plain shapes so that every
label's place is known: each function returns a Drawing whose String shapes are all its text.

The rules every chart keeps (tests/pdf_service/test_brief_render.py checks them on the geometry): honest
fixed scales (0-100, never past it), n in the chart, a 95 % interval on every figure that comes
from a sample, low-confidence figures drawn pale and dashed, and every figure printed as text
beside its mark, so that the PDF's extracted text carries it. No text is cut or overlaps.
"""

from __future__ import annotations

import math
import re

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth

from shared.intervals import wilson_bounds

from .style import BOLD, INK, MUTED, REGULAR, RULE, band_color

READY_LINE = 60
STAFF_GREY = colors.HexColor("#8a97a6")


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.1f}"


Z95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval


def share_interval(percent: float | None, n: int) -> tuple[float, float] | None:
    """Wilson 95 % interval (in %) of a share measured on n people: the same arithmetic as the
    scoring service's (shared.intervals), without scipy's quantile call per bar."""
    if percent is None or not n:
        return None
    successes = max(0, min(n, round(percent * n / 100)))
    low, high = wilson_bounds(successes, n, Z95)
    return 100 * low, 100 * high


def _pale(color, alpha=0.35):
    return colors.Color(color.red, color.green, color.blue, alpha=alpha)


def _text(d: Drawing, x, y, text, size=7.5, font=REGULAR, color=INK, anchor="start"):
    d.add(String(x, y, text, fontName=font, fontSize=size, fillColor=color, textAnchor=anchor))


def _split(text: str, font, size, width) -> list[str]:
    """Greedy lines of at most `width`, breaking at spaces and after hyphens."""
    tokens = [t for t in re.split(r"(?<=-)|\s+", text) if t]
    lines: list[str] = []
    for token in tokens:
        glue = "" if not lines or lines[-1].endswith("-") else " "
        if lines and stringWidth(lines[-1] + glue + token, font, size) <= width:
            lines[-1] += glue + token
        else:
            lines.append(token)
    return lines


def _wrap(text: str, width: float, size: float, font=REGULAR, lines=2) -> list[str]:
    parts = _split(text, font, size, width)
    if len(parts) > lines:  # never cut silently: the last line says something was left out
        parts = parts[:lines]
        while parts[-1] and stringWidth(parts[-1] + "…", font, size) > width:
            parts[-1] = parts[-1][:-1]
        parts[-1] += "…"
    return parts


def _caption(d: Drawing, lines: list[str], top: float, width: float, size=7.5) -> float:
    """Caption lines wrapped to the width, from `top` down; returns the y below them."""
    y = top
    for line in lines:
        for part in simpleSplit(line, REGULAR, size, width):
            y -= size + 3
            _text(d, 0, y, part, size=size, color=MUTED)
    return y


def _x_axis(d: Drawing, x_of, y, ticks=(0, 20, 40, 60, 80, 100), suffix=""):
    d.add(Line(x_of(ticks[0]), y, x_of(ticks[-1]), y, strokeColor=RULE, strokeWidth=0.6))
    for t in ticks:
        d.add(Line(x_of(t), y, x_of(t), y - 2, strokeColor=MUTED, strokeWidth=0.5))
        _text(d, x_of(t), y - 9, f"{t}{suffix}", size=6.5, color=MUTED, anchor="middle")


def score_bars(rows: list[dict], caption: list[str], *, ready_line: float | None = None,
               width: float = 480) -> Drawing:
    """Horizontal 0-100 bars in the given order, coloured by band, with 95 % interval whiskers
    and each score and interval printed at the right. rows: name, score, interval, band, low
    (a low-confidence figure: pale and dashed)."""
    size, row_h = 7.5, 19
    label_w = min(175, max(stringWidth(r["name"], REGULAR, size) for r in rows) + 8)
    value_w = 112
    x0, x1 = label_w, width - value_w
    head = 12 if ready_line is not None else 0
    caption_h = sum(len(simpleSplit(c, REGULAR, 7.5, width)) for c in caption) * 10.5 + 4
    height = caption_h + head + row_h * len(rows) + 22
    d = Drawing(width, height)
    _caption(d, caption, height, width)

    def x_of(v):
        return x0 + (x1 - x0) * max(0.0, min(100.0, v)) / 100

    top = height - caption_h - head
    bottom = top - row_h * len(rows)
    for i, row in enumerate(rows):
        y = top - (i + 1) * row_h
        middle = y + row_h / 2
        names = _wrap(row["name"], label_w - 8, size)
        for k, part in enumerate(names):
            _text(d, x0 - 6, middle - 2.5 + (len(names) - 1) * 4.5 - k * 9, part, size=size,
                  anchor="end")
        score, color = row.get("score"), band_color(row.get("band"))
        if score is None:
            _text(d, x0 + 4, middle - 2.5, "not scored", size=size, color=MUTED)
            continue
        d.add(Rect(x0, middle - 5, x_of(score) - x0, 10, strokeColor=color if row.get("low")
                   else None, strokeDashArray=(2, 1.5) if row.get("low") else None,
                   strokeWidth=0.8, fillColor=_pale(color) if row.get("low") else color))
        iv = row.get("interval")
        label = _fmt(score)
        if iv and iv[0] is not None:
            for x in (x_of(iv[0]), x_of(iv[1])):
                d.add(Line(x, middle - 4, x, middle + 4, strokeColor=INK, strokeWidth=0.8))
            d.add(Line(x_of(iv[0]), middle, x_of(iv[1]), middle, strokeColor=INK,
                       strokeWidth=0.8))
            label += f"  ({_fmt(iv[0])}–{_fmt(iv[1])})"
        if row.get("low"):
            label += "  low conf."
        _text(d, x1 + 6, middle - 2.5, label, size=size, font=BOLD if not row.get("low")
              else REGULAR, color=INK)
    if ready_line is not None:
        x = x_of(ready_line)
        d.add(Line(x, bottom, x, top + 2, strokeColor=colors.HexColor("#1e8449"),
                   strokeDashArray=(3, 2), strokeWidth=1))
        _text(d, x, top + 4, f"ready ({ready_line:.0f})", size=6.5,
              color=colors.HexColor("#1e8449"), anchor="middle")
    _x_axis(d, x_of, bottom - 2)
    return d


def heat_map(rows: list[dict], columns: list[tuple[str, str]], width: float = 480) -> Drawing:
    """Segments (rows) x dimensions (columns, named in words), each cell coloured by band and
    printing its score. rows: label, n, low (pale cells), cells {column key: {score, band}}."""
    label_w, n_w = 168, 26
    cell_w = (width - label_w - n_w) / len(columns)
    size, cell_h = 7, 15
    # Each header as large as its longest word allows (at most 6.3 pt), in up to four lines.
    sizes = [min([6.3] + [6.3 * (cell_w - 4) / stringWidth(token, BOLD, 6.3)
                          for token in re.split(r"(?<=-)|\s+", title) if token])
             for _, title in columns]
    headers = [_wrap(title, cell_w - 3, size, font=BOLD, lines=4)
               for (_, title), size in zip(columns, sizes)]
    head_h = 8 * max(len(h) for h in headers) + 4
    height = head_h + cell_h * len(rows) + 2
    d = Drawing(width, height)
    top = height - head_h
    _text(d, label_w + n_w - 4, top + 4, "n", size=6.3, font=BOLD, anchor="end")
    for c, lines in enumerate(headers):
        x = label_w + n_w + c * cell_w + cell_w / 2
        for k, line in enumerate(lines):
            _text(d, x, top + 4 + (len(lines) - 1 - k) * 8, line, size=sizes[c], font=BOLD,
                  anchor="middle")
    for r, row in enumerate(rows):
        y = top - (r + 1) * cell_h
        label = _wrap(row["label"], label_w - 4, size, lines=1)
        if label[0].endswith("…"):  # too long for one line: two smaller ones
            label = _wrap(row["label"], label_w - 4, 6, lines=2)
            _text(d, 0, y + 8, label[0], size=6)
            _text(d, 0, y + 1.5, label[1], size=6)
        else:
            _text(d, 0, y + 4.5, label[0], size=size)
        _text(d, label_w + n_w - 4, y + 4.5, str(row["n"]), size=size, color=MUTED,
              anchor="end")
        for c, (key, _) in enumerate(columns):
            cell = row["cells"].get(key) or {}
            score = cell.get("score")
            color = band_color(cell.get("band")) if score is not None else colors.HexColor(
                "#e5e8ec")
            x = label_w + n_w + c * cell_w
            d.add(Rect(x + 1, y + 1, cell_w - 2, cell_h - 2, strokeColor=None,
                       fillColor=_pale(color, 0.4) if row.get("low") else color))
            ink = INK if row.get("low") or score is None else colors.white
            _text(d, x + cell_w / 2, y + 4.5, _fmt(score), size=size, color=ink,
                  anchor="middle")
    return d


def timing_distribution(timing: dict, n: int, accent, width: float = 480,
                        height: float = 175) -> Drawing:
    """When customers want first contact (share per 10-point band, with 95 % intervals), and
    the two points that matter: the customers' median and where sales engages."""
    d = Drawing(width, height)
    caption = [f"Share of customers (n = {n}) by how far into buying they want first contact; "
               "whiskers: 95 % interval."]
    y_top = _caption(d, caption, height, width) - 26
    x0, x1, y0 = 30, width - 10, 30
    bins = [b or 0 for b in timing["bins_pct"]]
    intervals = [share_interval(b, n) for b in bins]
    highest = max(max(b, iv[1] if iv else 0) for b, iv in zip(bins, intervals))
    scale = max(10.0, math.ceil(highest / 10) * 10)

    def y_of(v):
        return y0 + (y_top - 10 - y0) * min(v, scale) / scale

    def x_of(percent):
        return x0 + (x1 - x0) * max(0.0, min(100.0, percent)) / 100

    step = (x1 - x0) / 10
    for i, share in enumerate(bins):
        left = x0 + i * step
        d.add(Rect(left + 3, y0, step - 6, y_of(share) - y0, fillColor=colors.HexColor(
            "#aab7c4"), strokeColor=None))
        iv = intervals[i]
        if iv:
            d.add(Line(left + step / 2, y_of(iv[0]), left + step / 2, y_of(iv[1]),
                       strokeColor=INK, strokeWidth=0.6))
        _text(d, left + step / 2, max(y_of(share), y_of(iv[1]) if iv else 0) + 3,
              f"{_fmt(share)}%", size=6.5, anchor="middle")
        _text(d, left + step / 2, y0 - 9, f"{i * 10}–{i * 10 + 9}" if i < 9 else "90–100",
              size=6.5, color=MUTED,
              anchor="middle")
    d.add(Line(x0, y0, x1, y0, strokeColor=RULE))
    marks = sorted(((timing["vendor_point"], colors.HexColor("#c0392b"),
                     f"sales engages: {_fmt(timing['vendor_point'])}%"),
                    (timing["customer_median"], accent,
                     f"customers' median: {_fmt(timing['customer_median'])}%")),
                   key=lambda m: m[0])
    taken = []
    for position, (value, color, label) in enumerate(marks):
        x = x_of(value)
        w = stringWidth(label, BOLD, 7)
        d.add(Line(x, y0, x, y_top + 2, strokeColor=color, strokeWidth=1.6))
        # The left mark's label reads leftwards and the right one's rightwards, unless the
        # edge is too close; a label that would touch the other goes one line up.
        leftwards = (position == 0 and x - 3 - w >= 0) or x + 3 + w > width
        left = x - 3 - w if leftwards else x + 3
        y = y_top + 5
        if any(_overlaps((left, y, left + w, y + 7), box) for box in taken):
            y += 10
        taken.append((left, y, left + w, y + 7))
        _text(d, left, y, label, size=7, color=color, font=BOLD)
    _text(d, (x0 + x1) / 2, 4, "how far into buying (%) →", size=6.5, color=MUTED,
          anchor="middle")
    return d


def paired_bars(items: list[dict], left_key: str, right_key: str, legend: tuple[str, str],
                counts: tuple[int, int], accent, width: float = 480) -> Drawing:
    """Customers' share (wanted) against the staff's share (offered), one pair per item, each
    with its 95 % interval from its own n and its value printed. Staff shares from few people
    are drawn pale and dashed."""
    items = items[:10]
    customers, staff = counts
    low_staff = staff < 30
    size, row_h = 7, 24
    label_w, value_w = 170, 40
    x0, x1 = label_w, width - value_w
    left_text = f"{legend[0]} (n = {customers})"
    right_text = f"{legend[1]} (n = {staff}" + (", low confidence)" if low_staff else ")")
    right_x = x0 + 12 + stringWidth(left_text, REGULAR, 7) + 16
    two_lines = right_x + 12 + stringWidth(right_text, REGULAR, 7) > width
    legend_h = 27 if two_lines else 16
    height = legend_h + row_h * len(items) + 20
    d = Drawing(width, height)
    swatch_y = height - 10
    _text(d, x0 + 12, swatch_y, left_text, size=7)
    d.add(Rect(x0, swatch_y - 1, 8, 8, fillColor=accent, strokeColor=None))
    if two_lines:
        right_x, swatch_y = x0, swatch_y - 11
    d.add(Rect(right_x, swatch_y - 1, 8, 8, fillColor=_pale(STAFF_GREY) if low_staff
               else STAFF_GREY, strokeColor=STAFF_GREY, strokeDashArray=(2, 1.5)))
    _text(d, right_x + 12, swatch_y, right_text, size=7)

    def x_of(v):
        return x0 + (x1 - x0) * max(0.0, min(100.0, v)) / 100

    top = height - legend_h
    for i, item in enumerate(items):
        y = top - (i + 1) * row_h
        names = _wrap(item["label"], label_w - 10, size)
        for k, part in enumerate(names):
            _text(d, x0 - 6, y + row_h / 2 - 2.5 + (len(names) - 1) * 4 - k * 8, part,
                  size=size, anchor="end")
        for offset, key, n, low, color in ((row_h / 2 + 1, left_key, customers, False, accent),
                                           (row_h / 2 - 8, right_key, staff, low_staff,
                                            STAFF_GREY)):
            value = item.get(key)
            bar_y = y + offset
            if value is None:
                continue
            d.add(Rect(x0, bar_y, x_of(value) - x0, 7, fillColor=_pale(color) if low else color,
                       strokeColor=color if low else None,
                       strokeDashArray=(2, 1.5) if low else None, strokeWidth=0.6))
            iv = share_interval(value, n)
            end = x_of(value)
            if iv:
                d.add(Line(x_of(iv[0]), bar_y + 3.5, x_of(iv[1]), bar_y + 3.5, strokeColor=INK,
                           strokeWidth=0.6))
                end = max(end, x_of(iv[1]))
            _text(d, end + 3, bar_y + 1, f"{_fmt(value)}%", size=6.3, color=INK)
    _x_axis(d, x_of, top - row_h * len(items) - 2, suffix="%")
    return d


def _overlaps(a, b, pad=0.5) -> bool:
    return not (a[2] + pad <= b[0] or b[2] + pad <= a[0] or a[3] + pad <= b[1]
                or b[3] + pad <= a[1])


def place_labels(points: list[tuple[float, float]], widths: list[float], height: float,
                 bounds: tuple[float, float, float, float],
                 obstacles: list[tuple[float, float, float, float]]) -> list[tuple]:
    """A box (x0, y0, x1, y1) for each point's label, beside its point, overlapping no other
    label, no obstacle and no point, inside bounds: candidates are tried in rings of growing
    distance around the point, nearest first (a leader line joins far ones to their point)."""
    placed: list[tuple] = []
    markers = [(x - 4, y - 4, x + 4, y + 4) for x, y in points]
    angles = [0, 180, 90, 270, 45, 135, 315, 225, 22, 158, 338, 202, 67, 113, 293, 247]
    for (px, py), w in zip(points, widths):
        best = None
        for distance in (7, 12, 18, 26, 36, 48, 62, 80, 100):
            for angle in angles:
                dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
                cx, cy = px + dx * distance, py + dy * distance
                # Anchor the box on the side facing away from the point.
                x_left = cx if dx > 0.3 else cx - w if dx < -0.3 else cx - w / 2
                y_low = cy if dy > 0.3 else cy - height if dy < -0.3 else cy - height / 2
                box = (x_left, y_low, x_left + w, y_low + height)
                if (box[0] < bounds[0] or box[1] < bounds[1] or box[2] > bounds[2]
                        or box[3] > bounds[3]):
                    continue
                if any(_overlaps(box, other) for other in placed + obstacles + markers):
                    continue
                best = box
                break
            if best:
                break
        if best is None:  # nowhere free: stack below everything placed so far (still no overlap)
            lowest = min([bounds[3]] + [b[1] for b in placed]) - height - 2
            best = (bounds[0], lowest, bounds[0] + w, lowest + height)
        placed.append(best)
    return placed


def quadrant_plot(quadrants: list[dict], names: dict[str, str], n: int, accent,
                  width: float = 480, height: float = 300) -> Drawing:
    """Importance (x) against the share served as preferred (y), both on their full 0-100
    scales; dashed lines at the means split the quadrants. Every point is labelled with its
    job's name and its two figures, placed so that no label overlaps another."""
    d = Drawing(width, height)
    caption = [f"Each buying job as {n} customers rated it: how important (0–100) and what share "
               "of them the way they prefer to do it is offered (%), with its 95 % interval."]
    y_plot_top = _caption(d, caption, height, width) - 8
    x0, y0 = 34, 30
    w, h = width - x0 - 8, y_plot_top - y0

    def px(v):
        return x0 + w * max(0.0, min(100.0, v)) / 100

    def py(v):
        return y0 + h * max(0.0, min(100.0, v)) / 100

    d.add(Rect(x0, y0, w, h, fillColor=None, strokeColor=RULE))
    xs = [q["importance"] for q in quadrants]
    ys = [q["performance"] for q in quadrants]
    mean_i, mean_p = sum(xs) / len(xs), sum(ys) / len(ys)
    d.add(Line(px(mean_i), y0, px(mean_i), y0 + h, strokeColor=MUTED, strokeDashArray=(3, 2)))
    d.add(Line(x0, py(mean_p), x0 + w, py(mean_p), strokeColor=MUTED, strokeDashArray=(3, 2)))
    corner = []
    for text, x, y, anchor in (("concentrate here", x0 + w - 4, y0 + 5, "end"),
                               ("keep up the good work", x0 + w - 4, y0 + h - 11, "end"),
                               ("low priority", x0 + 4, y0 + 5, "start"),
                               ("possible overkill", x0 + 4, y0 + h - 11, "start")):
        tw = stringWidth(text, BOLD, 7)
        left = x - tw if anchor == "end" else x
        # White behind every label: the dashed average lines never run through words.
        d.add(Rect(left - 1, y - 2, tw + 2, 9, fillColor=colors.white, strokeColor=None))
        _text(d, x, y, text, size=7, font=BOLD, color=MUTED, anchor=anchor)
        corner.append((left, y - 2, left + tw, y + 7))
    for tick in (0, 20, 40, 60, 80, 100):
        _text(d, px(tick), y0 - 9, f"{tick}", size=6.5, color=MUTED, anchor="middle")
        _text(d, x0 - 4, py(tick) - 2, f"{tick}%", size=6.5, color=MUTED, anchor="end")
    _text(d, x0 + w / 2, 4, "importance to customers (0–100) →", size=7, color=MUTED,
          anchor="middle")
    points = [(px(q["importance"]), py(q["performance"])) for q in quadrants]
    whiskers = []
    for q, (x, _) in zip(quadrants, points):
        iv = share_interval(q["performance"], n)
        if iv:
            d.add(Line(x, py(iv[0]), x, py(iv[1]), strokeColor=MUTED, strokeWidth=0.7))
            whiskers.append((x - 1, py(iv[0]), x + 1, py(iv[1])))
    size = 6.8
    labels = [f"{names.get(q['item'], q['item'])} ({_fmt(q['importance'])}; "
              f"{_fmt(q['performance'])}%)" for q in quadrants]
    widths = [stringWidth(text, REGULAR, size) + 2 for text in labels]
    boxes = place_labels(points, widths, size + 2, (0, 0, width, y_plot_top + 6),
                         corner + whiskers)
    for q, (x, y), text, box in zip(quadrants, points, labels, boxes):
        color = colors.HexColor("#c0392b") if q["quadrant"] == "concentrate here" else accent
        nearest_x = min(max(x, box[0]), box[2])
        nearest_y = min(max(y, box[1]), box[3])
        if math.hypot(nearest_x - x, nearest_y - y) > 8:
            d.add(Line(x, y, nearest_x, nearest_y, strokeColor=MUTED, strokeWidth=0.4))
    for text, box in zip(labels, boxes):
        d.add(Rect(box[0], box[1], box[2] - box[0], box[3] - box[1], fillColor=colors.white,
                   strokeColor=None))
        _text(d, box[0] + 1, box[1] + 2, text, size=size, color=INK)
    for q, (x, y) in zip(quadrants, points):
        color = colors.HexColor("#c0392b") if q["quadrant"] == "concentrate here" else accent
        d.add(Circle(x, y, 3.2, fillColor=color, strokeColor=colors.white, strokeWidth=0.6))
    return d


def recommend_chart(nps: dict, shares: dict | None, accent, width: float = 480) -> Drawing:
    """Likelihood to recommend: the net score on its -100..100 scale with its interval, and the
    split into detractors (0-6), passives (7-8) and promoters (9-10) with each share's
    interval printed."""
    height = 118 if shares else 60
    d = Drawing(width, height)
    n = nps.get("n")
    _caption(d, [f"Net promoter score of {n} customers (−100 to +100) with its 95 % interval."],
             height, width)
    x0, x1 = 40, width - 40
    y = height - 34

    def x_of(v):
        return x0 + (x1 - x0) * (max(-100.0, min(100.0, v)) + 100) / 200

    d.add(Line(x0, y, x1, y, strokeColor=RULE, strokeWidth=3))
    for t in (-100, -50, 0, 50, 100):
        _text(d, x_of(t), y - 11, f"{t:+d}" if t else "0", size=6.5, color=MUTED,
              anchor="middle")
    iv = nps.get("interval") or [None, None]
    if iv[0] is not None:
        d.add(Line(x_of(iv[0]), y, x_of(iv[1]), y, strokeColor=accent, strokeWidth=3))
        for x in (x_of(iv[0]), x_of(iv[1])):
            d.add(Line(x, y - 5, x, y + 5, strokeColor=accent, strokeWidth=1))
    if nps.get("value") is not None:
        d.add(Circle(x_of(nps["value"]), y, 4.5, fillColor=accent, strokeColor=colors.white))
        text = f"{_fmt(nps['value'])} ({_fmt(iv[0])} to {_fmt(iv[1])})"
        _text(d, x_of(nps["value"]), y + 8, text, size=7.5, font=BOLD, anchor="middle")
    if not shares:
        return d
    bar_y, bar_h = 22, 16
    left = x0
    parts = (("detractors", "Detractors (0–6)", colors.HexColor("#c0392b")),
             ("passives", "Passives (7–8)", colors.HexColor("#aab7c4")),
             ("promoters", "Promoters (9–10)", colors.HexColor("#1e8449")))
    label_x = x0
    for key, title, color in parts:
        part = shares[key]
        span = (x1 - x0) * (part["pct"] or 0) / 100
        d.add(Rect(left, bar_y, span, bar_h, fillColor=color, strokeColor=colors.white))
        left += span
        piv = part.get("interval") or [None, None]
        text = f"{title}: {_fmt(part['pct'])}% ({_fmt(piv[0])}–{_fmt(piv[1])})"
        _text(d, label_x, bar_y - 11, text, size=7, color=INK)
        label_x += (x1 - x0) / 3
    return d
