"""The brief's method page says in which languages people answered, when there was more
than one: one short line, with the languages named in words."""

from __future__ import annotations

from pdf_service.brief.content import language_name, languages_line
from pdf_service.brief.render import render_brief

from tests.support.pdfcheck import page_texts, qpdf_check, words
from tests.pdf_service.test_brief_render import _demo_like, _report


def _methods_page(pdf: bytes) -> str:
    """The text from the method section's heading on (it may run onto a second page)."""
    text = words(" ".join(page_texts(pdf, layout=False)))
    return text[text.index("How to read this brief"):]


def test_the_method_page_lists_the_languages_answered_in():
    report = _report(_demo_like())
    report["languages"] = {"customer": {"en": 40, "de": 12, "pt-BR": 3}, "vendor": {"en": 9}}
    pdf = render_brief(report)
    qpdf_check(pdf)
    assert "Answered in: English 40, German 12, Portuguese (Brazil) 3 (customers); English 9 " \
           "(staff)." in _methods_page(pdf)


def test_one_language_only_says_nothing():
    report = _report(_demo_like())
    report["languages"] = {"customer": {"en": 40}, "vendor": {"en": 9}}
    assert "Answered in" not in _methods_page(render_brief(report))
    del report["languages"]  # a report from before languages were counted
    assert "Answered in" not in _methods_page(render_brief(report))


def test_languages_are_named_in_words_and_unknown_codes_kept():
    assert [language_name(c) for c in ("de", "fr", "pt-BR", "zz", "ar")] == [
        "German", "French", "Portuguese (Brazil)", "zz", "Arabic"]
    assert languages_line({"languages": {"customer": {"fr": 2, "en": 1}}}) == \
        "Answered in: French 2, English 1."
