"""Fonts, colours and paragraph styles of the brief."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS = Path(__file__).resolve().parent.parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"


def register_fonts() -> None:
    """Embedded TrueType fonts: names like Łódź Software or Müller GmbH render as written."""
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                      boldItalic=BOLD)


INK = colors.HexColor("#1c2430")
MUTED = colors.HexColor("#5b6675")
RULE = colors.HexColor("#d5dae1")
PAPER_TINT = colors.HexColor("#f4f6f9")
BAND_COLORS = {  # the four bands, from worst to best
    "misaligned": colors.HexColor("#c0392b"), "not ready": colors.HexColor("#c0392b"),
    "developing": colors.HexColor("#d68910"),
    "aligned": colors.HexColor("#2e86c1"), "ready": colors.HexColor("#2e86c1"),
    "leading": colors.HexColor("#1e8449"),
}


def band_color(band: str | None):
    return BAND_COLORS.get(band or "", MUTED)


def accent(report: dict):
    value = ((report.get("survey") or {}).get("branding") or {}).get("accent_color")
    try:
        return colors.HexColor(value) if value else colors.HexColor("#1f6feb")
    except ValueError:
        return colors.HexColor("#1f6feb")


def styles_for(accent_color) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13.5, textColor=INK,
                          alignment=TA_LEFT, spaceAfter=6)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=MUTED),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=18, leading=23,
                             spaceBefore=14, spaceAfter=10, textColor=INK),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=12.5, leading=16,
                             spaceBefore=8, spaceAfter=6, textColor=accent_color),
        "h3": ParagraphStyle("h3", parent=base, fontName=BOLD, fontSize=10, leading=13,
                             spaceBefore=4, spaceAfter=3),
        "cover_title": ParagraphStyle("cover_title", parent=base, fontName=BOLD, fontSize=28,
                                      leading=34, spaceAfter=14),
        "cover_sub": ParagraphStyle("cover_sub", parent=base, fontSize=13, leading=18,
                                    textColor=MUTED),
        "headline": ParagraphStyle("headline", parent=base, fontName=BOLD, fontSize=17,
                                   leading=22, spaceBefore=4, spaceAfter=10),
        "score": ParagraphStyle("score", parent=base, fontSize=9, leading=30, spaceAfter=0),
        "body_tight": ParagraphStyle("body_tight", parent=base, spaceAfter=1),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=9, firstLineIndent=-9,
                                 spaceAfter=3),
        "quote": ParagraphStyle("quote", parent=base, fontSize=10.5, leading=14.5,
                                leftIndent=10, spaceBefore=4, spaceAfter=1),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11, spaceAfter=0),
        "cell_bold": ParagraphStyle("cell_bold", parent=base, fontName=BOLD, fontSize=8.5,
                                    leading=11, spaceAfter=0),
    }
