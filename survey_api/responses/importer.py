"""Importing historical responses from CSV: the export's own format reads back in.

Columns: submission_id (required), optionally complete, invitation_id and language (the one
the respondent answered in, e.g. de), segment_<name> for segment attributes, and one column
per question id. Multiple choices and rankings are separated
by ';'. A leading quote that the export added to defuse a spreadsheet formula is removed.

Resumable twice over: a checkpoint file records how many rows are done, and submission ids make
re-sent rows harmless duplicates anyway.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from shared.instrument_languages import LANGUAGE
from shared.instruments import NOT_SURE, NUMBER_RANGES, questions_of
from shared.storage import CONFLICT, Store, Survey, utc_now
from shared.text import text_problem

from shared.errors import Invalid
from .domain import MAX_BATCH, context_for, ingest_prepared, one_per_invitation, prepare
from .export import FORMULA_STARTS

LISTS = ("multiple_choice", "ranking")


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    skipped: int = 0  # rows done by an earlier run, per the checkpoint


def _unquote(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def row_to_item(row: dict, questions: dict, kind: str) -> tuple[dict, list[dict]]:
    """A CSV row as a response envelope, and errors for cells that cannot be read at all."""
    errors = []
    answers: dict = {}
    attributes: dict = {}
    for column, raw in row.items():
        if column is None:
            errors.append({"field": "row", "reason": "More cells than header columns."})
            continue
        question = questions.get(column)
        # The file is read with surrogateescape: bytes that are not UTF-8 show up here as
        # lone surrogates and cost their row, not the import.
        reason = text_problem(raw or "", single_line=not (question and question["type"] == "text"))
        if reason:
            errors.append({"field": column, "reason": "Not valid UTF-8 text." if "surrogate"
                           in reason else reason})
            continue
        text = _unquote((raw or "").strip())
        if not text or column in ("submission_id", "complete", "invitation_id"):
            continue
        if column.startswith("segment_"):
            attributes[column[len("segment_"):]] = text
            continue
        if question is None:
            continue  # the export's fixed columns (id, source, created_at, ...) are ignored
        if question["type"] in NUMBER_RANGES and text == NOT_SURE and question.get("not_sure"):
            answers[column] = text
        elif question["type"] in NUMBER_RANGES:
            try:
                answers[column] = int(text)
            except ValueError:
                errors.append({"field": f"answers.{column}", "reason": "Must be a whole number."})
        elif question["type"] in LISTS:
            answers[column] = [part.strip() for part in text.split(";") if part.strip()]
        else:
            answers[column] = text
    item = {"submission_id": _unquote((row.get("submission_id") or "").strip()),
            "instrument": kind, "answers": answers, "attributes": attributes,
            "complete": (row.get("complete") or "true").strip().lower() not in ("false", "0",
                                                                                "no")}
    if row.get("invitation_id"):
        item["invitation_id"] = row["invitation_id"].strip()
    language = (row.get("language") or "").strip()
    if language and re.match(LANGUAGE, language):
        item["language"] = language
    elif language:
        errors.append({"field": "language", "reason": "Use a language code such as en, de or "
                                                      "pt-BR."})
    if not item["submission_id"]:
        errors.append({"field": "submission_id", "reason": "Every row needs a submission_id."})
    return item, errors


def import_csv(store: Store, survey: Survey, path: Path, *, kind: str = "customer",
               rejects_path: Path, checkpoint_path: Path, batch_size: int = 500,
               progress: Callable[[int], None] = lambda n: None) -> ImportSummary:
    ctx = context_for(store, survey)
    questions = questions_of(ctx.instruments[kind].definition)
    done = int(checkpoint_path.read_text()) if checkpoint_path.exists() else 0
    summary = ImportSummary(skipped=done)
    batch_size = max(1, min(batch_size, MAX_BATCH))
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as source, \
            rejects_path.open("a" if done else "w", newline="", encoding="utf-8",
                              errors="replace") as rejects:
        reject_writer = csv.writer(rejects)
        if not done:
            reject_writer.writerow(["line", "submission_id", "field", "reason"])
        rows = csv.DictReader(source)
        pending: list[tuple[int, dict]] = []
        for line, row in _safe(_numbered(rows), rows):
            summary.rows += 1
            if summary.rows <= done:
                continue
            pending.append((line, row))
            if len(pending) >= batch_size:
                _flush(ctx, pending, questions, kind, summary, reject_writer)
                rejects.flush()
                checkpoint_path.write_text(str(summary.rows))
                progress(len(pending))
                pending = []
        if pending:
            _flush(ctx, pending, questions, kind, summary, reject_writer)
            checkpoint_path.write_text(str(summary.rows))
            progress(len(pending))
    return summary


def _numbered(rows: csv.DictReader) -> Iterator[tuple[int, dict]]:
    for row in rows:
        yield rows.line_num, row


def _safe(numbered, rows: csv.DictReader):
    """Rows as read; a file that is not CSV stops the import with a clear error."""
    try:
        yield from numbered
    except csv.Error as exc:
        raise Invalid(f"Line {rows.line_num} cannot be read as CSV: {exc}",
                      [{"field": f"line {rows.line_num}", "reason": str(exc)}]) from None


def _flush(ctx, pending, questions, kind, summary, reject_writer) -> None:
    ready, rejected = [], {}
    received_at = utc_now()
    for line, row in pending:
        item, errors = row_to_item(row, questions, kind)
        if not errors:
            try:
                ready.append((line, prepare(ctx, item, "import", received_at=received_at)))
                continue
            except Invalid as exc:
                errors = exc.errors
        rejected[line] = (item.get("submission_id", ""), errors)
    ready, repeats = one_per_invitation(ready)
    rows = dict(pending)
    for line, errors in repeats.items():
        rejected[line] = (rows[line].get("submission_id", ""), errors)
    for line in sorted(rejected):
        submission_id, errors = rejected[line]
        summary.rejected += 1
        for error in errors:
            reject_writer.writerow([line, submission_id, error["field"], error["reason"]])
    lines = [line for line, _ in ready]
    for line, (response, outcome) in zip(lines, ingest_prepared(ctx, [n for _, n in ready])):
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        if outcome == CONFLICT:
            reject_writer.writerow([line, response.submission_id, "submission_id",
                                    "Already stored with different content."])
