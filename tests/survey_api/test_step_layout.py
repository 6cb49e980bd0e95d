"""The layout of questions asked of every buying step (the staff form's "What we offer at each
step"): each asked once with a row per step, in every shipped language, and nowhere else; every
question kept, so nothing asked or stored changes."""

from __future__ import annotations

import copy

import pytest

from shared.instrument_languages import localized_instrument
from shared.instruments import builtin_instruments
from survey_api.forms.domain import chunks, layout

SHIPPED = {(i.id, i.version): i for i in builtin_instruments()}
JOBS = ["problem", "explore", "requirements", "selection", "validation", "consensus"]


def _section(definition: dict, section_id: str) -> list[dict]:
    return next(s for s in definition["sections"] if s["id"] == section_id)["questions"]


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_the_staff_steps_page_asks_each_question_once_with_a_row_per_step(language):
    definition = localized_instrument(SHIPPED["how-we-sell", 1], language)
    questions = _section(definition, "stages")
    [block] = layout(questions)
    assert block["kind"] == "steps" and block["questions"] == questions
    modes, provided = block["series"]
    assert [r["question"]["id"] for r in modes["rows"]] == [f"job_{j}_modes" for j in JOBS]
    assert [r["question"]["id"] for r in provided["rows"]] == [f"job_{j}_value" for j in JOBS]
    # The steps' names, read from the questions' texts, are the names the same instrument gives
    # the steps elsewhere (the options of "which steps does our process cover?").
    steps = {o["value"]: o["label"]
             for o in _section(definition, "process")[0]["options"]}
    assert [r["step"] for r in modes["rows"]] == [r["step"] for r in provided["rows"]] == \
        [steps[j] for j in JOBS]
    # What is asked, without the step's name, once per series, starting with a capital.
    question = questions[0]["text"]
    assert question.endswith(modes["ask"]) and question.startswith(steps["problem"])
    assert modes["title"][0].isupper() and modes["title"][1:] == modes["ask"][1:]
    assert (modes["columns"], provided["columns"]) == (True, False)  # 4 options; 6


def test_no_other_page_of_a_shipped_instrument_is_laid_out_as_steps():
    kinds = {}
    for (instrument_id, version), instrument in SHIPPED.items():
        for key, _, part in chunks(instrument.definition):
            blocks = layout(part)
            kinds[instrument_id, version, key] = {b["kind"] for b in blocks}
            laid_out = [q for b in blocks for q in b["questions"]]
            assert laid_out == part  # every question, once, in order
    assert [page for page, found in kinds.items() if "steps" in found] == [
        ("how-we-sell", 1, "stages")]
    # The customer's buying jobs keep their cards; its "what would you want" questions (shown
    # only for important steps) stay one by one.
    assert kinds["how-you-buy", 2, "early_jobs"] == {"card"}
    assert kinds["how-you-buy", 2, "wanted"] == {"question"}


def _stages():
    return copy.deepcopy(_section(SHIPPED["how-we-sell", 1].definition, "stages"))


def test_steps_that_differ_or_are_too_few_are_asked_one_by_one():
    """Rows need three steps in a row asking the same (asks, kinds, answer codes), each
    question of a row naming the same step."""
    differing = _stages()
    differing[1]["options"] = differing[1]["options"][:-1]  # the first step offers one less
    first, second, rows = layout(differing)
    assert [first["kind"], second["kind"], rows["kind"]] == ["question", "question", "steps"]
    assert [r["question"]["job"] for r in rows["series"][1]["rows"]] == JOBS[1:]

    later = _stages()
    later[9]["options"] = later[9]["options"][:-1]  # the fifth step's "what we provide"
    first, *rest = layout(later)
    assert first["kind"] == "steps" and len(first["series"][0]["rows"]) == 4
    assert [b["kind"] for b in rest] == ["question"] * 4

    renamed = _stages()
    renamed[1]["text"] = "Another step: what do we provide at this step?"  # a row, two names
    assert [b["kind"] for b in layout(renamed)] == ["question", "question", "steps"]

    assert "steps" not in {b["kind"] for b in layout(_stages()[:4])}  # two steps only
