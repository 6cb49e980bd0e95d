"""SQLite responses and their per-cell counters. Responses posted at the same moment by one
worker's threads share a transaction (group_commit.py)."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from ..codec import dumps, from_doc, loads
from ..batch import group_answers, plan_batch, sum_counters
from ..interface import AggregateRepository, ResponseRepository
from ..models import NewResponse, Response
from .group_commit import GroupCommit
from .records import RepositoryOnStore, insert_deliveries
from .schema import readable_records

if TYPE_CHECKING:
    from .store import SqliteStore


class _Responses(RepositoryOnStore, ResponseRepository):
    def __init__(self, store: SqliteStore):
        super().__init__(store)
        # Concurrent posts in this process share a transaction (see group_commit).
        self._group = GroupCommit(store._write_lock, store._transaction, self._write_group)

    def add(self, new, outbox=None):
        return self.add_many([new], outbox=outbox)[0]

    def add_many(self, batch: list[NewResponse], outbox=None):
        # Each item carries its caller's outbox: a group holds several callers' items.
        return self._group.submit([(new, outbox) for new in batch])

    def _write_group(self, c: sqlite3.Connection, items: list[tuple[NewResponse, object]]):
        """The work of one transaction: every item of the callers grouped into it."""
        batch = [new for new, _ in items]
        plan = plan_batch(batch, self._existing(c, batch))
        inserts = [plan.final[p] for p in plan.inserts.values()]
        updates = [plan.final[p] for p in plan.updates.values()]
        # A statement is run only with rows to write: each one, even an empty executemany,
        # hands the GIL to another of the worker's threads and waits to get it back.
        if inserts:
            c.executemany(
                "INSERT INTO responses (id, org_id, survey_id, submission_id, instrument,"
                " source, complete, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.id, r.org_id, r.survey_id, r.submission_id, r.instrument, r.source,
                  int(r.complete), r.created_at, dumps(r))
                 for r in (n.response for n in inserts)],
            )
        if updates:
            c.executemany(
                "UPDATE responses SET instrument = ?, source = ?, complete = ?, doc = ? "
                "WHERE id = ? AND complete = 0",
                [(n.response.instrument, n.response.source, int(n.response.complete),
                  dumps(n.response), n.response.id) for n in updates],
            )
        counted = [n for n in (*inserts, *updates) if n.response.complete]
        by_survey: dict[str, list[NewResponse]] = {}
        for n in counted:
            by_survey.setdefault(n.response.survey_id, []).append(n)
        for survey_id, news in by_survey.items():
            _add_counts(c, survey_id, sum_counters(news))
        self._queue_deliveries(c, items, plan.final)
        return plan.results

    @staticmethod
    def _queue_deliveries(c: sqlite3.Connection, items, final: dict[int, NewResponse]) -> None:
        by_outbox: dict[int, tuple[object, list[Response]]] = {}
        for position in sorted(final):
            outbox = items[position][1]
            if outbox is not None and final[position].response.complete:
                by_outbox.setdefault(id(outbox), (outbox, []))[1].append(final[position].response)
        deliveries = [d for outbox, written in by_outbox.values() for d in outbox(written)]
        insert_deliveries(c, deliveries)

    @staticmethod
    def _existing(c, batch) -> dict[tuple[str, str], Response]:
        found: dict[tuple[str, str], Response] = {}
        by_survey: dict[str, set[str]] = {}
        for n in batch:
            by_survey.setdefault(n.response.survey_id, set()).add(n.response.submission_id)
        for survey_id, submission_ids in by_survey.items():
            ids = sorted(submission_ids)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = c.execute(f"SELECT doc FROM responses WHERE survey_id = ? AND "
                                 f"submission_id IN ({marks})", [survey_id, *chunk])
                for (doc,) in rows:
                    r = from_doc(Response, loads(doc))
                    found[(r.survey_id, r.submission_id)] = r
        return found

    def get(self, org_id, response_id, survey_id=None):
        return self.store.one(Response, "SELECT doc FROM responses WHERE org_id = ? AND id = ?",
                              (org_id, response_id))

    def find_by_submission(self, survey_id, submission_id):
        return self.store.one(Response, "SELECT doc FROM responses WHERE survey_id = ? AND "
                                        "submission_id = ?", (survey_id, submission_id))

    def list(self, org_id, survey_id, *, after=None, limit=100, filters=None):
        sql = "SELECT doc FROM responses WHERE org_id = ? AND survey_id = ?"
        params: list = [org_id, survey_id]
        filters = filters or {}
        for column in ("source", "instrument"):
            if filters.get(column) is not None:
                sql += f" AND {column} = ?"
                params.append(filters[column])
        if filters.get("complete") is not None:
            sql += " AND complete = ?"
            params.append(int(bool(filters["complete"])))
        if filters.get("created_from"):
            sql += " AND created_at >= ?"
            params.append(filters["created_from"])
        if filters.get("created_to"):
            sql += " AND created_at < ?"
            params.append(filters["created_to"])
        if filters.get("fingerprint"):
            sql += " AND json_extract(doc, '$.fingerprint') = ?"
            params.append(filters["fingerprint"])
        for name, value in (filters.get("attributes") or {}).items():
            sql += " AND json_extract(doc, ?) = ?"
            params += ["$.attributes." + json.dumps(name), value]
        return self.store.page(Response, sql, params, after, limit)

    def first_answers(self, survey_id, instrument, questions, limit):
        # SQLite picks the few values out of each document (one parse in C) and groups equal
        # ones: building every response, then looking at each, was most of a report's time.
        paths = ["$.cell_key", *("$.answers." + json.dumps(q) for q in questions)]
        picked = f"json_array({', '.join(['json_extract(doc, ?)'] * len(paths))})"
        sql = (f"SELECT complete, picked, COUNT(*), MIN(position) FROM ("
               f"SELECT complete, {picked} AS picked, ROW_NUMBER() OVER (ORDER BY id) - 1 "
               "AS position FROM responses WHERE survey_id = ? AND instrument = ? "
               "ORDER BY id LIMIT ?) GROUP BY complete, picked ORDER BY MIN(position)")
        try:
            rows = self.store.conn().execute(sql, (*paths, survey_id, instrument, limit))
            rows = rows.fetchall()
        except sqlite3.OperationalError:  # a document that is not JSON: read them one by one
            return group_answers(self._answers_readable(survey_id, instrument, questions,
                                                        limit))
        found = []
        for complete, picked, count, first in rows:
            cell, *values = loads(picked)
            found.append((cell, bool(complete),
                          {q: v for q, v in zip(questions, values) if v is not None},
                          count, first))
        return found

    def _answers_readable(self, survey_id, instrument, questions, limit):
        for position, response in enumerate(self.iter_survey(
                survey_id, instrument=instrument, batch_size=min(limit, 1000))):
            if position >= limit:
                return
            yield (response.cell_key, response.complete,
                   {q: response.answers[q] for q in questions
                    if response.answers.get(q) is not None})

    def iter_survey(self, survey_id, *, instrument=None, batch_size=1000):
        after = ""
        sql = "SELECT id, doc FROM responses WHERE survey_id = ? AND id > ?"
        extra: list = []
        if instrument:
            sql += " AND instrument = ?"
            extra = [instrument]
        while True:
            rows = self.store.conn().execute(sql + " ORDER BY id LIMIT ?",
                                             [survey_id, after, *extra, batch_size]).fetchall()
            if not rows:
                return
            yield from readable_records(Response, rows)
            after = rows[-1][0]

    def count(self, survey_id):
        return self.store.conn().execute("SELECT count(*) FROM responses WHERE survey_id = ?",
                                         (survey_id,)).fetchone()[0]

    def erase(self, survey_id, submission_id, counters_of):
        with self.store.write() as c:
            row = c.execute("SELECT doc FROM responses WHERE survey_id = ? AND submission_id = ?",
                            (survey_id, submission_id)).fetchone()
            if row is None:
                return None
            response = from_doc(Response, loads(row[0]))
            c.execute("DELETE FROM responses WHERE id = ?", (response.id,))
            if response.complete:
                _add_counts(c, survey_id, {response.cell_key: dict.fromkeys(
                    counters_of(response), -1)})
        return response


class _Aggregates(RepositoryOnStore, AggregateRepository):
    def for_survey(self, survey_id):
        rows = self.store.conn().execute(
            "SELECT cell_key, counts FROM cell_counts WHERE survey_id = ?", (survey_id,))
        return {cell: loads(counts) for cell, counts in rows}

    def replace_survey(self, survey_id, cells):
        with self.store.write() as c:
            c.execute("DELETE FROM cell_counts WHERE survey_id = ?", (survey_id,))
            c.executemany("INSERT INTO cell_counts (survey_id, cell_key, counts) VALUES (?, ?, ?)",
                          [(survey_id, cell, dumps(counts)) for cell, counts in cells.items()
                           if counts])


def _add_counts(c: sqlite3.Connection, survey_id: str, changes: dict[str, dict[str, int]]
                ) -> None:
    """Add per-cell counter changes inside the caller's write transaction. Counters that fall
    to zero (after an erasure) mean nothing and are dropped, and so are empty cells."""
    cells = list(changes)
    current: dict[str, dict[str, int]] = {}
    for start in range(0, len(cells), 500):
        chunk = cells[start:start + 500]
        rows = c.execute(f"SELECT cell_key, counts FROM cell_counts WHERE survey_id = ? AND "
                         f"cell_key IN ({','.join('?' * len(chunk))})", [survey_id, *chunk])
        current.update((cell, loads(counts)) for cell, counts in rows)
    writes, deletes = [], []
    for cell, change in changes.items():
        counts = current.get(cell, {})
        shrinking = False
        for counter, by in change.items():
            counts[counter] = counts.get(counter, 0) + by
            shrinking = shrinking or by < 0
        if shrinking:
            counts = {counter: n for counter, n in counts.items() if n > 0}
        if counts:
            writes.append((survey_id, cell, dumps(counts)))
        else:
            deletes.append((survey_id, cell))
    if writes:
        c.executemany("INSERT INTO cell_counts (survey_id, cell_key, counts) VALUES (?, ?, ?) "
                      "ON CONFLICT (survey_id, cell_key) DO UPDATE SET counts = excluded.counts",
                      writes)
    if deletes:
        c.executemany("DELETE FROM cell_counts WHERE survey_id = ? AND cell_key = ?", deletes)

