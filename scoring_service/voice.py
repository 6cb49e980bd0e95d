"""The customers' own voice for the report: how likely they are to recommend the vendor, split
into promoters, passives and detractors, and a few of their suggestions, verbatim.

Which suggestions are quoted (the rule the brief's methods page states):
- only complete customer responses (partial web responses and staff answers never);
- never a response that falls in a segment the report hides (fewer than `hide_below`
  responses), so no quote comes out of a hidden cell;
- never a text carrying an e-mail address, a web address or a long number (a phone or
  account number could name someone);
- the suggestions given most often come first (compared case- and space-insensitively, so
  ten customers writing the same thing count as ten), ties by the earliest; at most
  `MAX_QUOTES`, each cut at `MAX_CHARACTERS` on a word boundary;
- a quote is attributed to a segment only when every customer who wrote it belongs to it and
  the segment has at least `insufficient_below` responses (10 by default); otherwise to
  "customers" alone;
- reads are bounded: at most `MAX_SCANNED` customer responses, in storage order.
The text is returned as written (trimmed); whoever prints it escapes it for its medium.
"""

from __future__ import annotations

import re

from shared.cells import parse_cell_key
from shared.instruments import questions_of
from shared.storage import Store, Survey

from .scoring.model import load_model
from .scoring.stats import wilson

MAX_QUOTES = 3
MAX_CHARACTERS = 240
MAX_SCANNED = 5000
_IDENTIFYING = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|www\.|\d[\d\s().-]{5,}\d")


def _within(attributes: dict, filters: dict) -> bool:
    return all(attributes.get(k) == v for k, v in filters.items())


def recommend_split(cells: dict[str, dict[str, int]], nps_item: str, confidence: float
                    ) -> dict | None:
    """Shares of detractors (0-6), passives (7-8) and promoters (9-10), each with its Wilson
    interval, over every customer cell."""
    # Summed straight from the "nps=7" counters: parsing every cell's counters once more
    # (the report has parsed them already) was a tenth of a report.
    prefix = nps_item + "="
    histogram: dict[int, int] = {}
    for key, counters in cells.items():
        if parse_cell_key(key)[0] != "customer":
            continue
        for counter, count in counters.items():
            if count and counter.startswith(prefix):
                value = int(counter[len(prefix):])
                histogram[value] = histogram.get(value, 0) + count
    n = sum(histogram.values())
    if not n:
        return None
    groups = {"detractors": range(0, 7), "passives": range(7, 9), "promoters": range(9, 11)}
    out: dict = {"n": n}
    for name, values in groups.items():
        estimate = wilson(sum(histogram.get(v, 0) for v in values), n, confidence)
        out[name] = {"pct": round(estimate.value, 1),
                     "interval": [round(estimate.low, 1), round(estimate.high, 1)]}
    return out


def _clean(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > MAX_CHARACTERS:
        text = text[:MAX_CHARACTERS].rsplit(" ", 1)[0] + "…"
    return text


def _small_hidden_groups(report: dict, cells: dict[str, dict[str, int]], hide_below: int
                        ) -> list[dict]:
    """The hidden segments that are hidden for being small. The report also hides larger
    segments whose figures would let a small one be worked out by subtraction; a quote from a
    member of such a large segment names nobody, so only the small ones keep their members
    out of the quotes."""
    customers = [(parse_cell_key(key)[1], counters.get("n", 0)) for key, counters in cells.items()
                 if parse_cell_key(key)[0] == "customer"]
    return [s["filters"] for s in report["segments"] if s["status"] == "suppressed" and
            sum(n for attributes, n in customers if _within(attributes, s["filters"])) < hide_below]


def suggestions(store: Store, survey: Survey, report: dict, text_questions: list[str],
                min_group: int, hidden: list[dict]) -> list[dict]:
    shown = [s for s in report["segments"] if s["status"] != "suppressed" and s["filters"]]
    # Thousands of responses fall in a handful of cells: whether a cell is hidden and which
    # shown segments hold it is worked out once per cell, not once per response.
    by_cell: dict[str, tuple[bool, set[str]]] = {}

    def placed(cell: str) -> tuple[bool, set[str]]:
        found = by_cell.get(cell)
        if found is None:
            attributes = parse_cell_key(cell)[1]
            found = by_cell[cell] = (
                any(_within(attributes, filters) for filters in hidden),
                {s["key"] for s in shown if _within(attributes, s["filters"])})
        return found

    by_text: dict[str, dict] = {}
    quotable: dict[str, str | None] = {}  # text -> its comparison key, None if never quoted
    read = store.responses.first_answers(survey.id, "customer", text_questions, MAX_SCANNED)
    for cell, complete, answers, count, scanned in read:  # in the order of their first
        if not complete:
            continue
        is_hidden, mine = placed(cell)
        if is_hidden:
            continue
        for qid in text_questions:
            raw = answers.get(qid)
            if not isinstance(raw, str):
                continue
            key = quotable.get(raw, False)
            if key is False:  # the same texts recur: each is read once
                key = quotable[raw] = None if not raw.strip() or _IDENTIFYING.search(raw) \
                    else " ".join(raw.lower().split())
            if key is None:
                continue
            entry = by_text.get(key)
            if entry is None:
                entry = by_text[key] = {"text": _clean(raw), "count": 0, "order": scanned,
                                        "groups": None}
            entry["count"] += count
            entry["groups"] = set(mine) if entry["groups"] is None else entry["groups"] & mine
    return chosen_quotes(by_text, shown, min_group)


def chosen_quotes(by_text: dict[str, dict], shown: list[dict], min_group: int) -> list[dict]:
    """The most often given texts (first given first among equals), each attributed to the
    largest shown group holding every customer who gave it, if that group is big enough."""
    chosen = sorted(by_text.values(), key=lambda e: (-e["count"], e["order"]))[:MAX_QUOTES]
    labels = {s["key"]: (s["label"], s["n"]) for s in shown}
    quotes = []
    for entry in chosen:
        groups = sorted((labels[k] for k in entry["groups"] or () if labels[k][1] >= min_group),
                        key=lambda label_n: -label_n[1])
        quotes.append({"text": entry["text"], "count": entry["count"],
                       "group": groups[0][0] if groups else None,
                       "group_n": groups[0][1] if groups else None})
    return quotes


def customers_voice(store: Store, survey: Survey, report: dict) -> dict:
    model = load_model()
    limits = model["suppression"]
    if report["overall"]["status"] == "suppressed":
        return {"recommend": None, "suggestions": [], "scanned_limit": MAX_SCANNED}
    instrument = store.instruments.get(survey.org_id, survey.customer_instrument["id"],
                                       survey.customer_instrument["version"])
    text_questions = [qid for qid, q in questions_of(instrument.definition).items()
                      if q["type"] == "text"]
    cells = store.aggregates.for_survey(survey.id)
    return {
        "recommend": recommend_split(cells, model["alignment"]["A6"]["nps_item"],
                                     model.get("confidence", 0.95)),
        "suggestions": suggestions(store, survey, report, text_questions,
                                   limits["insufficient_below"],
                                   _small_hidden_groups(report, cells, limits["hide_below"])),
        "scanned_limit": MAX_SCANNED,
    }
