"""The respondents' pages in German and French: every message the pages and their code use has
a translation in each catalogue, none is left over, the shipped .mo files are the .po files
compiled, and the placeholders survive translation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

SURVEY_API = Path(__file__).parents[2] / "survey_api"
LANGUAGES = ("de", "fr")


def _used_messages() -> set:
    method_map = [("**/forms/**.py", "python"), ("**/console/mail_texts.py", "python"),
                  ("**/templates/forms/**.html", "jinja2")]
    return {message for _, _, message, _, _ in extract_from_dir(str(SURVEY_API), method_map)}


def _catalog(language: str):
    with open(SURVEY_API / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


def test_the_pages_use_enough_messages_to_mean_something():
    used = _used_messages()
    assert len(used) > 60
    assert "Send my answers" in used and "This link is not valid" in used


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_used_is_translated_and_none_is_unused(language):
    catalog = _catalog(language)
    used = {m if isinstance(m, str) else m[0] for m in _used_messages()}
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert used - translated.keys() == set(), "missing"
    assert translated.keys() - used == set(), "unused"
    for message in translated.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, message.id
        assert not catalog.check() or all(not errors for _, errors in catalog.check())


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_mo_file_is_the_po_file_compiled(language):
    catalog = _catalog(language)
    mo_path = SURVEY_API / "translations" / language / "LC_MESSAGES" / "messages.mo"
    compiled = read_mo(io.BytesIO(mo_path.read_bytes()))
    def pairs(messages):
        return {(_key(m.id), _key(m.string)) for m in messages if m.id}
    assert pairs(compiled) == pairs(catalog) and len(pairs(catalog)) > 60


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value
