"""Brief rendering: time per full brief over 100 renders and whether memory stays flat, against
a one-page reportlab document rendered the same way in the same run."""

from __future__ import annotations

import io
import resource
import tempfile
import time
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.platypus import Paragraph, SimpleDocTemplate
from reportlab.lib.styles import getSampleStyleSheet

from pdf_service.brief.render import render_brief
from scoring_service.domain import survey_report
from shared.storage import open_store
from survey_api.demo import seed_demo

from .targets import FLAT_MB, Goal

RENDERS = 100


def _one_page() -> bytes:
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(
        [Paragraph("A one-page baseline document.", getSampleStyleSheet()["Normal"])])
    return buffer.getvalue()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run():
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/demo.db")
        demo = seed_demo(store, Path(tmp) / "key")
        report = survey_report(store, demo.org_id, demo.survey_id, ["size,tenure"])
    render_brief(report)  # warm-up: fonts, caches
    peaks = []
    start = time.perf_counter()
    for i in range(RENDERS):
        render_brief(report)
        if i in (9, RENDERS - 1):
            peaks.append(_rss_mb())
    brief_ms = (time.perf_counter() - start) / RENDERS * 1000
    start = time.perf_counter()
    for _ in range(RENDERS):
        _one_page()
    page_ms = (time.perf_counter() - start) / RENDERS * 1000
    growth = peaks[1] - peaks[0]
    return [
        {"name": "full brief render (8 pages, 9 charts)", "value": brief_ms, "unit": "ms",
         "baseline": "one-page reportlab document", "baseline_value": page_ms,
         "note": f"peak RSS {peaks[0]:.0f} MB after 10 renders, "
                 f"{peaks[1]:.0f} MB after {RENDERS} (growth {growth:+.1f} MB)",
         "targets": [Goal("figure", "<", 300, "ms"), Goal("growth", "<=", FLAT_MB, "MB",
                                                           f"RSS flat (growth <= {FLAT_MB:g} MB)")],
         "measures": {"growth": growth}},
    ]
