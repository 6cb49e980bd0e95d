"""Streaming exports: rows are produced one at a time from a batched cursor, so memory stays
flat however many responses a survey has."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from shared.errors import Invalid
from shared.instrument_languages import localized_instrument, offered_languages, option_labels
from shared.instruments import questions_of
from shared.storage import Instrument, Response

# language is the one the respondent answered in (empty when unknown); the CSV import reads it
# back, so an export re-imports with its languages.
FIXED = ["id", "submission_id", "instrument", "source", "complete", "created_at",
         "invitation_id", "language"]
# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """Keep a text cell from running as a spreadsheet formula (OWASP's advice: a leading ')."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ";".join(value)
    return neutralize(str(value))


def labels_in(instrument: Instrument, language: str | None) -> dict[str, dict[str, str]]:
    """The option labels an export shows instead of answer codes, in a language the
    instrument offers; {} (codes, as stored) when no language is asked for."""
    if not language:
        return {}
    offered = offered_languages(instrument.definition)
    if language not in offered:
        raise Invalid(f"The instrument does not offer {language!r}.", [
            {"field": "labels", "reason": f"Not offered by {instrument.id} v"
                                          f"{instrument.version}; offered: {', '.join(offered)}."}],
            location="query")
    return option_labels(localized_instrument(instrument, language))


def labelled(answers: dict, labels: dict[str, dict[str, str]]) -> dict:
    """The answers with each option code replaced by its label (other answers as they are)."""
    if not labels:
        return answers
    out = {}
    for qid, value in answers.items():
        names = labels.get(qid)
        if names is None:
            out[qid] = value
        elif isinstance(value, list):
            out[qid] = [names.get(v, v) for v in value]
        else:
            out[qid] = names.get(value, value) if isinstance(value, str) else value
    return out


def csv_rows(responses: Iterable[Response], definition: dict, segments: list[str],
             labels: dict[str, dict[str, str]] | None = None) -> Iterator[str]:
    questions = list(questions_of(definition))
    header = FIXED + [f"segment_{s}" for s in segments] + questions
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield flush()
    for r in responses:
        row = [r.id, r.submission_id, r.instrument, r.source, r.complete, r.created_at,
               r.invitation_id, r.language]
        row += [r.attributes.get(s) for s in segments]
        answers = labelled(r.answers, labels) if labels else r.answers
        row += [answers.get(q) for q in questions]
        writer.writerow([_cell(v) for v in row])
        yield flush()


def ndjson_rows(responses: Iterable[Response],
                labels: dict[str, dict[str, str]] | None = None) -> Iterator[str]:
    for r in responses:
        yield json.dumps({"id": r.id, "submission_id": r.submission_id,
                          "instrument": r.instrument, "source": r.source,
                          "complete": r.complete, "created_at": r.created_at,
                          "invitation_id": r.invitation_id, "language": r.language,
                          "attributes": r.attributes,
                          "answers": labelled(r.answers, labels) if labels else r.answers},
                         ensure_ascii=False) + "\n"

