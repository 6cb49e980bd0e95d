"""One response's place in the counters: its clean answers, its segment attributes, the cell
they put it in and the counters it adds one to.

Ingestion (survey_api) stores what this gives; stateless scoring (POST /v1/score) counts it in
memory. Both call this one function, so a posted response scores exactly as the stored one.
"""

from __future__ import annotations

from typing import NamedTuple

from .cells import cell_key, language_counters
from .instruments import AnswerValidator, segment_questions

# skip_required when no segment attribute is known up front: every required question is asked.
NONE_SKIPPED: frozenset[str] = frozenset()


class PlacedResponse(NamedTuple):
    answers: dict  # the clean answers
    attributes: dict  # segment name -> value, sorted by name; a segment nobody gave is absent
    cell_key: str  # absent segments are keyed as cells.MISSING
    counters: tuple[str, ...]  # what the response adds one to in its cell; none when partial
    errors: list[dict]  # the validator's {field: "answers.<qid>", reason}; empty when valid


def segment_question_ids(definition: dict) -> dict[str, str]:
    """Segment name -> the id of the profile question that asks it (size -> company_size)."""
    return {name: q["id"] for name, q in segment_questions(definition).items()}


def place_response(validator: AnswerValidator, asked: dict[str, str], cell_names: list[str],
                   kind: str, answers: dict, known: dict, complete: bool,
                   language: str | None = None) -> PlacedResponse:
    """Validate `answers` and place the response.

    `asked` is segment_question_ids of the response's instrument, `cell_names` the attributes
    its cells are keyed by (instruments.segment_names), `known` the attributes given with it
    (already checked against the survey's segments). A known attribute wins over the answer to
    the question that asks it, and that question is then not required; a segment neither known
    nor answered stays absent from the attributes and is MISSING in the cell key. A complete
    response also counts once for the `language` it was answered in.
    """
    checked = validator.check(
        answers, complete=complete,
        skip_required=frozenset(qid for name, qid in asked.items() if name in known)
        if known else NONE_SKIPPED)
    clean = checked.answers
    if checked.errors:
        return PlacedResponse(clean, {}, "", (), checked.errors)
    attributes = dict(known)
    for name, qid in asked.items():
        if name not in attributes and qid in clean:
            attributes[name] = clean[qid]
    attributes = {name: attributes[name] for name in sorted(attributes)}
    return PlacedResponse(clean, attributes, cell_key(kind, attributes, cell_names),
                          checked.counters + language_counters(language) if complete else (), [])
