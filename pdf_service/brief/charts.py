"""Vector charts for the brief (reportlab.graphics): each function returns a Drawing."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.spider import SpiderChart
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors

from .style import BOLD, INK, MUTED, REGULAR, RULE, band_color

READY_LINE = 60


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.1f}"


def readiness_spider(pillars: dict, titles: dict, accent, width=460, height=300) -> Drawing:
    """The eight pillars against the "ready" line."""
    d = Drawing(width, height)
    chart = SpiderChart()
    chart.x, chart.y, chart.width, chart.height = 110, 20, width - 220, height - 40
    keys = list(pillars)
    scores = [pillars[k]["score"] or 0 for k in keys]
    # A third, invisible strand at 100 fixes the scale at 0-100 (the chart scales to its maximum).
    chart.data = [[READY_LINE] * len(keys), scores, [100] * len(keys)]
    chart.labels = [f"{k} {titles.get(k, '')}"[:34] for k in keys]
    chart.spokeLabels.fontName = REGULAR
    chart.spokeLabels.fontSize = 7
    chart.spokeLabels.fillColor = INK
    chart.strands[0].strokeColor = colors.HexColor("#7f8c8d")
    chart.strands[0].strokeDashArray = (3, 2)
    chart.strands[0].fillColor = None
    chart.strands[1].strokeColor = accent
    chart.strands[1].fillColor = colors.Color(accent.red, accent.green, accent.blue, alpha=0.18)
    chart.strands[1].strokeWidth = 1.5
    chart.spokes.strokeColor = RULE
    chart.strands[2].strokeColor = None
    chart.strands[2].fillColor = None
    d.add(chart)
    d.add(String(4, height - 12, "dashed: the “ready” line (60)", fontName=REGULAR, fontSize=7,
                 fillColor=MUTED))
    return d


def heat_map(rows: list[tuple[str, dict]], columns: list[str], width=480) -> Drawing:
    """Segments (rows) x alignment dimensions (columns), each cell coloured by band."""
    label_w, cell_w, cell_h = 185, (width - 185) / len(columns), 16
    height = cell_h * (len(rows) + 1) + 6
    d = Drawing(width, height)
    top = height - cell_h
    for c, name in enumerate(columns):
        d.add(String(label_w + c * cell_w + cell_w / 2, top + 4, name, fontName=BOLD,
                     fontSize=7.5, fillColor=INK, textAnchor="middle"))
    for r, (label, cells) in enumerate(rows):
        y = top - (r + 1) * cell_h
        d.add(String(0, y + 4.5, label[:42], fontName=REGULAR, fontSize=7, fillColor=INK))
        for c, name in enumerate(columns):
            cell = cells.get(name) or {}
            score = cell.get("score")
            fill = band_color(cell.get("band")) if score is not None else colors.HexColor(
                "#e5e8ec")
            d.add(Rect(label_w + c * cell_w + 1, y + 1, cell_w - 2, cell_h - 2,
                       fillColor=fill, strokeColor=None))
            d.add(String(label_w + c * cell_w + cell_w / 2, y + 4.5,
                         _fmt(score) if score is not None else "–", fontName=REGULAR,
                         fontSize=7.5, fillColor=colors.white if score is not None else MUTED,
                         textAnchor="middle"))
    return d


def timing_distribution(timing: dict, accent, width=460, height=190) -> Drawing:
    """When customers want first contact (share per 10-point band) with the vendor's point."""
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 35, width - 60, height - 60
    chart.data = [[b or 0 for b in timing["bins_pct"]]]
    chart.categoryAxis.categoryNames = [f"{i * 10}–{i * 10 + 9}" if i < 9 else "90–100"
                                        for i in range(10)]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = colors.HexColor("#aab7c4")
    chart.bars[0].strokeColor = None
    d.add(chart)

    def x_of(percent: float) -> float:
        return chart.x + chart.width * min(100.0, percent) / 100

    for value, color, label in ((timing["vendor_point"], colors.HexColor("#c0392b"),
                                 f"sales engages: {_fmt(timing['vendor_point'])}%"),
                                (timing["customer_median"], accent,
                                 f"customers' median: {_fmt(timing['customer_median'])}%")):
        x = x_of(value)
        d.add(Line(x, chart.y, x, chart.y + chart.height + 4, strokeColor=color,
                   strokeWidth=1.6))
    d.add(String(chart.x, 8, f"Red line: sales engages at {_fmt(timing['vendor_point'])}% · "
                             f"blue line: customers' median {_fmt(timing['customer_median'])}%",
                 fontName=REGULAR, fontSize=7.5, fillColor=MUTED))
    d.add(String(chart.x, height - 12, "Share of customers by how far into buying they want "
                                       "first contact (%)", fontName=REGULAR, fontSize=7.5,
                 fillColor=MUTED))
    return d


def paired_bars(items: list[dict], left_key: str, right_key: str, legend: tuple[str, str],
                accent, width=460) -> Drawing:
    """Customers' share (wanted) against the vendor's share (offered), one row per item."""
    items = items[:10]
    row = 22
    height = row * len(items) + 40
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 195, 25, width - 215, row * len(items)
    chart.data = [[i[left_key] or 0 for i in reversed(items)],
                  [i[right_key] or 0 for i in reversed(items)]]
    chart.categoryAxis.categoryNames = [i["label"][:44] for i in reversed(items)]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 6.8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = accent
    chart.bars[1].fillColor = colors.HexColor("#aab7c4")
    chart.bars.strokeColor = None
    chart.barSpacing = 1
    d.add(chart)
    d.add(Rect(195, height - 11, 8, 8, fillColor=accent, strokeColor=None))
    d.add(String(207, height - 10, legend[0], fontName=REGULAR, fontSize=7.5, fillColor=INK))
    d.add(Rect(335, height - 11, 8, 8, fillColor=colors.HexColor("#aab7c4"), strokeColor=None))
    d.add(String(347, height - 10, legend[1], fontName=REGULAR, fontSize=7.5, fillColor=INK))
    return d


def quadrant_plot(quadrants: list[dict], accent, width=460, height=250) -> Drawing:
    """Importance (x) against performance (y), zoomed to the data; dashed lines at the means
    split the four quadrants. Points are numbered; the table beside the chart names them."""
    d = Drawing(width, height)
    x0, y0, w, h = 45, 32, width - 70, height - 62
    xs = [q["importance"] for q in quadrants]
    ys = [q["performance"] for q in quadrants]

    def span(values):
        # Padding may pass 0 or 100 a little so points on the edge stay inside the frame.
        low, high = max(-4.0, min(values) - 8), min(104.0, max(values) + 8)
        if high - low < 20:
            middle = (low + high) / 2
            low, high = max(-4.0, middle - 10), min(104.0, middle + 10)
        return low, high

    (xl, xh), (yl, yh) = span(xs), span(ys)

    def px(v):
        return x0 + w * (v - xl) / (xh - xl)

    def py(v):
        return y0 + h * (v - yl) / (yh - yl)

    d.add(Rect(x0, y0, w, h, fillColor=None, strokeColor=RULE))
    mean_i, mean_p = sum(xs) / len(xs), sum(ys) / len(ys)
    d.add(Line(px(mean_i), y0, px(mean_i), y0 + h, strokeColor=MUTED, strokeDashArray=(3, 2)))
    d.add(Line(x0, py(mean_p), x0 + w, py(mean_p), strokeColor=MUTED, strokeDashArray=(3, 2)))
    for text, x, y, anchor in (("concentrate here", x0 + w - 4, y0 + 5, "end"),
                               ("keep up the good work", x0 + w - 4, y0 + h - 11, "end"),
                               ("low priority", x0 + 4, y0 + 5, "start"),
                               ("possible overkill", x0 + 4, y0 + h - 11, "start")):
        d.add(String(x, y, text, fontName=BOLD, fontSize=7, fillColor=MUTED, textAnchor=anchor))
    for tick in (xl, (xl + xh) / 2, xh):
        d.add(String(px(tick), y0 - 10, f"{tick:.0f}", fontName=REGULAR, fontSize=6.5,
                     fillColor=MUTED, textAnchor="middle"))
    for tick in (yl, (yl + yh) / 2, yh):
        d.add(String(x0 - 4, py(tick) - 2, f"{tick:.0f}", fontName=REGULAR, fontSize=6.5,
                     fillColor=MUTED, textAnchor="end"))
    for number, q in enumerate(quadrants, start=1):
        color = colors.HexColor("#c0392b") if q["quadrant"] == "concentrate here" else accent
        d.add(Circle(px(q["importance"]), py(q["performance"]), 6.5, fillColor=color,
                     strokeColor=colors.white))
        d.add(String(px(q["importance"]), py(q["performance"]) - 2.5, str(number),
                     fontName=BOLD, fontSize=7, fillColor=colors.white, textAnchor="middle"))
    d.add(String(x0 + w / 2, 6, "importance to customers (0–100) →", fontName=REGULAR,
                 fontSize=7.5, fillColor=MUTED, textAnchor="middle"))
    d.add(String(x0, y0 + h + 8, "↑ share of customers served the way they prefer (%)",
                 fontName=REGULAR, fontSize=7.5, fillColor=MUTED))
    return d
