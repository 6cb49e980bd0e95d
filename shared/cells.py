"""Cells and counters: the vocabulary survey_api writes and scoring_service reads.

A *cell* is the finest cross of segment attributes: "customer|size=large|tenure=new". Vendor
staff responses fall in cells by role: "vendor|role=sales". Every segment a report shows is a
union of cells, so per-cell counters are enough to compute it.

Counters within a cell (all answers are discrete, so these histograms are exact sufficient
statistics for means, medians, shares, NPS and variances):
  n                      responses in the cell
  {question}#answered    responses that answered the question (optional items can be skipped)
  {question}={value}     single choice, 1-5 scale, 0-10 scale, percent (exact 0..100)
  {question}={option}    multiple choice: one count per option chosen
  {question}@{rank}={option}   ranking: the option placed at that rank (1 = first)
Free text is never counted.
"""

from __future__ import annotations

MISSING = ""  # the value of an attribute a response does not carry


def cell_key(kind: str, attributes: dict, names: list[str]) -> str:
    parts = [kind] + [f"{name}={attributes.get(name, MISSING)}" for name in sorted(names)]
    return "|".join(parts)


def parse_cell_key(key: str) -> tuple[str, dict[str, str]]:
    kind, *parts = key.split("|")
    attributes = dict(part.split("=", 1) for part in parts)
    return kind, attributes


_KEYS: dict[tuple, str] = {}  # (question, value) -> counter name: the same few thousand recur


def _key(*parts) -> str:
    key = _KEYS.get(parts)
    if key is None:
        qid, value, rank = parts
        key = f"{qid}={value}" if rank is None else f"{qid}@{rank}={value}"
        if len(_KEYS) < 100_000:
            _KEYS[parts] = key
    return key


def attribute_errors(segments: dict[str, list[str]], attributes: dict, field: str
                     ) -> list[dict]:
    """Errors for attribute names a survey does not define or values it does not allow."""
    errors = []
    for name, value in attributes.items():
        allowed = segments.get(name)
        if allowed is None:
            errors.append({"field": f"{field}.{name}",
                           "reason": f"Not a segment of this survey (segments: "
                                     f"{', '.join(sorted(segments)) or 'none'})."})
        elif value not in allowed:
            errors.append({"field": f"{field}.{name}",
                           "reason": f"Must be one of: {', '.join(allowed)}."})
    return errors


def answer_counters(questions: dict[str, dict], answers: dict) -> dict[str, int]:
    """The counter increments one response brings to its cell."""
    counters = {"n": 1}
    for qid, value in answers.items():
        question = questions.get(qid)
        if question is None or value is None:
            continue
        kind = question["type"]
        if kind == "text":
            continue
        counters[qid + "#answered"] = 1
        if kind == "multiple_choice":
            for option in value:
                counters[_key(qid, option, None)] = 1
        elif kind == "ranking":
            for rank, option in enumerate(value, start=1):
                counters[_key(qid, option, rank)] = 1
        else:
            counters[_key(qid, value, None)] = 1
    return counters
