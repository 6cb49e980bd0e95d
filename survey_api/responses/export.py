"""Streaming exports: rows are produced one at a time from a batched cursor, so memory stays
flat however many responses a survey has."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from shared.storage import Response

from shared.instruments import questions_of

FIXED = ["id", "submission_id", "instrument", "source", "complete", "created_at",
         "invitation_id"]
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


def csv_rows(responses: Iterable[Response], definition: dict, segments: list[str]
             ) -> Iterator[str]:
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
               r.invitation_id]
        row += [r.attributes.get(s) for s in segments]
        row += [r.answers.get(q) for q in questions]
        writer.writerow([_cell(v) for v in row])
        yield flush()


def ndjson_rows(responses: Iterable[Response]) -> Iterator[str]:
    for r in responses:
        yield json.dumps({"id": r.id, "submission_id": r.submission_id,
                          "instrument": r.instrument, "source": r.source,
                          "complete": r.complete, "created_at": r.created_at,
                          "invitation_id": r.invitation_id, "attributes": r.attributes,
                          "answers": r.answers}, ensure_ascii=False) + "\n"

