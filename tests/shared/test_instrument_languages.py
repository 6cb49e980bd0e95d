"""Instruments carry their translations as data: a language offered must be complete, and a
localized definition swaps every respondent-facing text while keeping every answer code."""

from __future__ import annotations

import copy

from shared.instrument_languages import (
    choose_language, localized, source_texts, text_direction,
)
from shared.instruments import InstrumentDefinitionSchema


def _definition() -> dict:
    return {
        "id": "pulse", "version": 1, "kind": "customer", "title": "Pulse",
        "intro": "{vendor} asks.",
        "sections": [{"id": "about", "title": "About you", "questions": [
            {"id": "size", "type": "single_choice", "text": "How big is {vendor}'s customer?",
             "help": "Roughly.", "options": [{"value": "small", "label": "Small"},
                                            {"value": "large", "label": "Large"}]},
            {"id": "ease", "type": "likert_5", "text": "How easy?",
             "scale_labels": ["Hard", "", "", "", "Easy"]},
        ]}],
    }


GERMAN = {
    "title": "Puls", "intro": "{vendor} fragt.", "sections.about.title": "Über Sie",
    "questions.size.text": "Wie groß ist der Kunde von {vendor}?",
    "questions.size.help": "Ungefähr.", "questions.size.options.small": "Klein",
    "questions.size.options.large": "Groß", "questions.ease.text": "Wie einfach?",
    "questions.ease.scale_labels.0": "Schwer", "questions.ease.scale_labels.4": "Einfach",
}


def _translated(**words) -> dict:
    return {**_definition(), "languages": ["en", "de"], "translations": {"de": words}}


def test_the_keys_name_every_text_by_ids_and_skip_empty_labels():
    assert set(source_texts(_definition())) == set(GERMAN)


def test_a_complete_translation_is_accepted():
    assert InstrumentDefinitionSchema().validate(_translated(**GERMAN)) == {}


def test_a_missing_unknown_or_misplaceheld_key_is_named_with_its_language():
    words = {k: v for k, v in GERMAN.items() if k != "questions.size.options.large"}
    words["questions.sise.text"] = "Tippfehler"
    words["questions.size.text"] = "Wie groß ist der Kunde?"  # {vendor} lost
    errors = InstrumentDefinitionSchema().validate(_translated(**words))
    assert set(errors) == {"translations.de.questions.size.options.large",
                           "translations.de.questions.sise.text",
                           "translations.de.questions.size.text"}
    assert "Missing" in errors["translations.de.questions.size.options.large"][0]
    assert "Unknown key" in errors["translations.de.questions.sise.text"][0]
    assert "{vendor}" in errors["translations.de.questions.size.text"][0] or \
        "vendor" in errors["translations.de.questions.size.text"][0]


def test_an_offered_language_without_translation_and_a_translation_not_offered_are_refused():
    definition = {**_definition(), "languages": ["en", "fr"], "translations": {"de": GERMAN}}
    errors = InstrumentDefinitionSchema().validate(definition)
    assert set(errors) == {"translations.fr", "translations.de"}
    assert "languages" in InstrumentDefinitionSchema().validate(
        {**_translated(**GERMAN), "languages": ["de"]})


def test_the_api_answers_422_naming_language_and_key(client, tenant):
    words = {k: v for k, v in GERMAN.items() if k != "questions.ease.text"}
    response = client.post("/v1/instruments", json=_translated(**words),
                           headers=tenant.headers())
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert "translations.de.questions.ease.text" in fields
    created = client.post("/v1/instruments", json=_translated(**GERMAN), headers=tenant.headers())
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["translations"]["de"]["title"] == "Puls"


def test_localized_swaps_every_text_and_keeps_every_code():
    definition = _translated(**GERMAN)
    before = copy.deepcopy(definition)
    german = localized(definition, "de")
    assert definition == before  # the stored definition is not changed
    assert german["language"] == "de" and "translations" not in german
    assert german["title"] == "Puls" and german["intro"] == "{vendor} fragt."
    size, ease = german["sections"][0]["questions"]
    assert size["text"] == "Wie groß ist der Kunde von {vendor}?" and size["help"] == "Ungefähr."
    assert [(o["value"], o["label"]) for o in size["options"]] == [("small", "Klein"),
                                                                   ("large", "Groß")]
    assert ease["scale_labels"] == ["Schwer", "", "", "", "Einfach"]
    assert german["sections"][0]["title"] == "Über Sie"
    assert set(source_texts(german)) == set(GERMAN)
    assert set(source_texts(german).values()) == set(GERMAN.values())


def test_a_language_not_offered_falls_back_to_the_default():
    definition = _translated(**GERMAN)
    for language in ("fr", None, "xx"):
        shown = localized(definition, language)
        assert shown["title"] == "Pulse" and shown["language"] == "en"
        assert shown["sections"] == definition["sections"]


def test_the_form_language_comes_from_the_wish_then_the_browser_then_the_default():
    offered = ["en", "de", "fr"]
    assert choose_language(offered, "fr", "de-DE,de;q=0.9") == "fr"
    assert choose_language(offered, "fr-CA", None) == "fr"
    assert choose_language(offered, "es", "es;q=1, fr;q=0.5, de;q=0.8") == "de"
    assert choose_language(offered, None, "de-AT, en;q=0.1") == "de"
    assert choose_language(offered, None, "fr;q=0, ja") == "en"
    assert choose_language(offered, None, "") == "en"
    assert text_direction("ar") == "rtl" and text_direction("de") == "ltr"


SHIPPED = ("how-you-buy", "how-we-sell")


def test_the_shipped_instruments_are_complete_in_every_language_they_offer():
    from shared.instruments import builtin_instruments

    offered = {}
    for instrument in builtin_instruments():
        definition = instrument.definition
        assert InstrumentDefinitionSchema().validate(definition) == {}, instrument.id
        if instrument.id == "how-you-buy" and instrument.version == 1:
            continue  # v1 stays English-only, for the surveys that already use it
        offered[instrument.id] = definition["languages"]
        texts = source_texts(definition)
        for language in definition["languages"][1:]:
            words = definition["translations"][language]
            assert set(words) == set(texts), (instrument.id, language)  # none missing or unused
            # Translated, not copied: only names and numbers may read the same.
            same = [k for k in texts if words[k] == texts[k]
                    and not any(c.isalpha() for c in texts[k].replace("{vendor}", ""))]
            copied = [k for k in texts if words[k] == texts[k] and k not in same]
            assert len(copied) <= 3, (instrument.id, language, copied)
    assert offered == {name: ["en", "de", "fr"] for name in SHIPPED}


def test_a_shipped_translation_localizes_the_form_texts():
    from shared.instruments import builtin_instruments

    v2 = next(i for i in builtin_instruments() if (i.id, i.version) == ("how-you-buy", 2))
    german, french = localized(v2.definition, "de"), localized(v2.definition, "fr")
    assert german["sections"][0]["title"] == "Zu Ihnen und Ihrem Unternehmen"
    assert french["sections"][0]["questions"][0]["text"].startswith("Depuis combien")
    for shown in (german, french):  # the same questions, ids, values and conditions
        assert [[(q["id"], q["type"], [o["value"] for o in q.get("options", [])],
                  q.get("show_if")) for q in s["questions"]] for s in shown["sections"]] == \
            [[(q["id"], q["type"], [o["value"] for o in q.get("options", [])],
               q.get("show_if")) for q in s["questions"]] for s in v2.definition["sections"]]
