"""Instruments in several languages: translations are data in the definition.

A definition may offer languages besides its own (`default_language`, "en" unless given):

    "languages": ["en", "de", "fr"],
    "translations": {"de": {"title": "...", "questions.tenure.text": "...", ...}, "fr": {...}}

Each translation maps a stable key to the text in that language. The keys name what a
respondent reads, by ids (never by position, so adding a question keeps the other keys):

    title, intro                                  the instrument's
    sections.<section id>.title | .intro          a section's
    questions.<question id>.text | .help | .label | .group | .group_hint
    questions.<question id>.options.<value>       an option's label
    questions.<question id>.scale_labels.<i>      a scale label (empty labels are not texts)

A language offered must be complete: every key of the default text translated, no key that
names nothing, and the same placeholders ({vendor}) as the default text. Answer codes (option
values, numbers) never change with the language, so validation and scoring do not either.
"""

from __future__ import annotations

import copy
import re
import string

from babel import Locale, UnknownLocaleError

from .bounded_cache import BoundedCache

LANGUAGE = r"^[a-z]{2,3}(-[A-Z]{2})?$"
DEFAULT_LANGUAGE = "en"
QUESTION_TEXTS = ("text", "help", "label", "group", "group_hint")
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "yi", "dv", "ug", "ku"})


def default_language(definition: dict) -> str:
    return definition.get("default_language") or DEFAULT_LANGUAGE


def offered_languages(definition: dict) -> list[str]:
    """The default language first, then the others offered, in the definition's order."""
    default = default_language(definition)
    return [default] + [lang for lang in definition.get("languages") or [] if lang != default]


def language_name(code: str) -> str:
    """A language code as an English reader names it: "de" -> "German"."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def text_direction(language: str) -> str:
    return "rtl" if language.split("-")[0] in RIGHT_TO_LEFT else "ltr"


def source_texts(definition: dict) -> dict[str, str]:
    """Every respondent-facing text of the definition, by its translation key."""
    texts: dict[str, str] = {}

    def put(key, value):
        if isinstance(value, str) and value:
            texts[key] = value

    put("title", definition.get("title"))
    put("intro", definition.get("intro"))
    for section in definition.get("sections") or []:
        put(f"sections.{section['id']}.title", section.get("title"))
        put(f"sections.{section['id']}.intro", section.get("intro"))
        for q in section.get("questions") or []:
            base = f"questions.{q['id']}"
            for field in QUESTION_TEXTS:
                put(f"{base}.{field}", q.get(field))
            for option in q.get("options") or []:
                put(f"{base}.options.{option['value']}", option.get("label"))
            for position, label in enumerate(q.get("scale_labels") or []):
                put(f"{base}.scale_labels.{position}", label)
    return texts


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:  # an unmatched brace: no placeholders to compare
        return set()


def translation_errors(definition: dict) -> dict[str, list[str]]:
    """{"translations.<language>.<key>": [reason]} for everything wrong with the languages and
    translations of a definition that is otherwise valid; empty when they are right."""
    errors: dict[str, list[str]] = {}
    languages = definition.get("languages")
    translations = definition.get("translations") or {}
    default = default_language(definition)
    if languages is None and not translations:
        return errors
    offered = offered_languages(definition)
    if languages is not None and default not in languages:
        errors["languages"] = [f"List the default language {default!r} too."]
    for language in translations:
        if language not in offered:
            errors[f"translations.{language}"] = [
                f"{language!r} is not in languages; offer it there, or remove its translation."]
        if language == default:
            errors[f"translations.{language}"] = [
                f"{language!r} is the default language: its texts are the definition's own."]
    texts = source_texts(definition)
    for language in offered[1:]:
        given = translations.get(language)
        if not isinstance(given, dict):
            errors[f"translations.{language}"] = [
                f"{language!r} is offered, so every text needs a translation in it "
                f"({len(texts)} keys)."]
            continue
        for key, source in texts.items():
            text = given.get(key)
            where = f"translations.{language}.{key}"
            if not isinstance(text, str) or not text.strip():
                errors[where] = [f"Missing: the {language!r} text for {source[:60]!r}."]
            elif _placeholders(text) != _placeholders(source):
                errors[where] = [f"Use the same placeholders as the default text: "
                                 f"{', '.join(sorted(_placeholders(source))) or 'none'}."]
        for key in given.keys() - texts.keys():
            errors[f"translations.{language}.{key}"] = [
                "Unknown key: it names no text of this definition."]
    return errors


def localized(definition: dict, language: str | None) -> dict:
    """The definition with its texts in that language, without the translations themselves.
    A language not offered gives the default language's texts."""
    if language not in offered_languages(definition)[1:]:
        if "translations" not in definition:
            return definition
        out = {k: v for k, v in definition.items() if k != "translations"}
        out["language"] = default_language(definition)
        return out
    words = definition["translations"][language]
    out = copy.deepcopy({k: v for k, v in definition.items() if k != "translations"})
    out["language"] = language

    def swap(node: dict, key: str, field: str):
        if key in words and node.get(field):
            node[field] = words[key]

    swap(out, "title", "title")
    swap(out, "intro", "intro")
    for section in out["sections"]:
        swap(section, f"sections.{section['id']}.title", "title")
        swap(section, f"sections.{section['id']}.intro", "intro")
        for q in section["questions"]:
            base = f"questions.{q['id']}"
            for field in QUESTION_TEXTS:
                swap(q, f"{base}.{field}", field)
            for option in q.get("options") or []:
                swap(option, f"{base}.options.{option['value']}", "label")
            if q.get("scale_labels"):
                q["scale_labels"] = [words.get(f"{base}.scale_labels.{i}", label) if label
                                     else label for i, label in enumerate(q["scale_labels"])]
    return out


def option_labels(definition: dict) -> dict[str, dict[str, str]]:
    """{question id: {option value: label}} for every question with options, in the
    definition's language (give it a localized() one for another language)."""
    return {q["id"]: {o["value"]: o["label"] for o in q["options"] if o.get("label")}
            for section in definition.get("sections") or []
            for q in section.get("questions") or [] if q.get("options")}


# Versions are immutable, so a localized definition never goes stale.
_localized: BoundedCache[dict] = BoundedCache(512)


def localized_instrument(instrument, language: str | None) -> dict:
    """localized() of a stored instrument version, worked out once per process."""
    return _localized.get_or_make((instrument.org_id, instrument.id, instrument.version, language),
                                  lambda: localized(instrument.definition, language))


def choose_language(offered: list[str], wanted: str | None, accept_language: str | None) -> str:
    """The language a form shows in: the one asked for (an invitation's, or the respondent's
    switch) when offered, else the best of Accept-Language among those offered, else the
    default (the first offered)."""
    if wanted:
        for candidate in (wanted, wanted.split("-")[0]):
            if candidate in offered:
                return candidate
    for tag in _accepted(accept_language or ""):
        for candidate in (tag, tag.split("-")[0]):
            if candidate in offered:
                return candidate
    return offered[0]


def _accepted(header: str) -> list[str]:
    """Accept-Language's tags, most wanted first (q=0 left out)."""
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]
