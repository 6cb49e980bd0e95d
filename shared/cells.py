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
  {question}#not_sure    "Not sure" given to a number question that offers it (not #answered:
                         the scores read the numbers)
  lang:{language}        responses answered in that language (those that say which)
Free text is never counted; nor is a question not asked (display conditions), so a question
skipped by design is never a non-response. A language counter has no "=" and no "#", so the
scores never read it as an answer; it rides in the cell so that it is written, erased and
rebuilt together with the answer counters, in the same transaction, on every backend.
"""

from __future__ import annotations

from .bounded_cache import BoundedCache

MISSING = ""  # the value of an attribute a response does not carry


def cell_key(kind: str, attributes: dict, names: list[str]) -> str:
    parts = [kind] + [f"{name}={attributes.get(name, MISSING)}" for name in sorted(names)]
    return "|".join(parts)


def parse_cell_key(key: str) -> tuple[str, dict[str, str]]:
    kind, *parts = key.split("|")
    attributes = dict(part.split("=", 1) for part in parts)
    return kind, attributes


# A report's segment is keyed like a cell without its kind: "size=large|tenure=new".
def segment_key(attributes: dict) -> str:
    return "|".join(f"{name}={value}" for name, value in sorted(attributes.items()))


def segment_names_of(key: str) -> list[str]:
    """The attribute names of a segment key, in its order: "size=large|tenure=new" ->
    ["size", "tenure"]."""
    return [part.split("=", 1)[0] for part in key.split("|")]


ANSWERED = "#answered"
NOT_SURE = "not_sure"  # shared.instruments.NOT_SURE (defined here too: instruments imports cells)

# (question, value, rank) -> counter name: the same few recur.
_NAMES: BoundedCache[str] = BoundedCache(100_000)


def counter_name(qid: str, value, rank: int | None = None) -> str:
    parts = (qid, value, rank)
    name = _NAMES.get(parts)
    if name is None:
        name = _NAMES.put(parts, f"{qid}={value}" if rank is None else f"{qid}@{rank}={value}")
    return name


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


def answer_counters(questions: dict[str, dict], answers: dict) -> tuple[str, ...]:
    """The counters of its cell that one complete response adds one to (each at most once).

    Ingestion gets the same names from the compiled validator in the same pass as validation;
    this plain version is what recounts (rebuild, erasure) and the tests compare it with.
    """
    counters = ["n"]
    for qid, value in answers.items():
        question = questions.get(qid)
        if question is None or value is None:
            continue
        kind = question["type"]
        if kind == "text":
            continue
        if value == NOT_SURE:
            counters.append(qid + "#not_sure")
            continue
        counters.append(qid + ANSWERED)
        if kind == "multiple_choice":
            counters += [counter_name(qid, option) for option in value]
        elif kind == "ranking":
            counters += [counter_name(qid, option, rank)
                         for rank, option in enumerate(value, start=1)]
        else:
            counters.append(counter_name(qid, value))
    return tuple(counters)


LANGUAGE_COUNTER = "lang:"


def language_counters(language: str | None) -> tuple[str, ...]:
    """What a complete response adds to its cell for the language it was answered in."""
    return (LANGUAGE_COUNTER + language,) if language else ()


def response_counters(questions: dict[str, dict], response) -> tuple[str, ...]:
    """Every counter a stored complete response added one to: its answers' and its
    language's (what erasure takes back out and a rebuild recounts)."""
    return answer_counters(questions, response.answers) + language_counters(response.language)


def languages_answered(cells: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """{kind: {language: responses}} summed over the cells' language counters, O(cells)."""
    tally: dict[str, dict[str, int]] = {}
    for key, counters in cells.items():
        kind = key.split("|", 1)[0]
        for name, count in counters.items():
            if name.startswith(LANGUAGE_COUNTER) and count > 0:
                by_language = tally.setdefault(kind, {})
                language = name[len(LANGUAGE_COUNTER):]
                by_language[language] = by_language.get(language, 0) + count
    return {kind: dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
            for kind, counts in sorted(tally.items())}
