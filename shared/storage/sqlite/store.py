"""SqliteStore: per-thread connections, write transactions, and the repositories on them."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..codec import dumps, from_doc, loads
from ..interface import Store
from ..models import Page, utc_now
from . import console
from .records import (
    _ApiKeys, _Audit, _Briefs, _Deliveries, _Instruments, _Invitations, _Organizations,
    _Surveys, _Webhooks,
)
from .responses import _Aggregates, _Responses
from .schema import MIGRATIONS, readable_records


class SqliteStore(Store):
    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._lock_file = None if path == ":memory:" else open(f"{path}.write-lock", "a+")
        self._pid = os.getpid()
        self.migrate()
        self.organizations = _Organizations(self)
        self.api_keys = _ApiKeys(self)
        self.instruments = _Instruments(self)
        self.surveys = _Surveys(self)
        self.invitations = _Invitations(self)
        self.responses = _Responses(self)
        self.aggregates = _Aggregates(self)
        self.briefs = _Briefs(self)
        self.webhooks = _Webhooks(self)
        self.deliveries = _Deliveries(self)
        self.audit = _Audit(self)
        self.console_users = console.ConsoleUsers(self)
        self.outbox = console.Outbox(self)

    # -- connections and transactions -------------------------------------------------------

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != os.getpid():
            # A connection must never cross a fork: make a fresh one in the child.
            if self._pid != os.getpid() and self._lock_file is not None:
                self._lock_file = open(f"{self.path}.write-lock", "a+")  # a lock of its own
            self._pid = os.getpid()
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={os.environ.get('SQLITE_SYNCHRONOUS', 'FULL')}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        # Writers queue on a lock (threads) and an flock (gunicorn's worker processes) rather
        # than in SQLite's busy handler, which sleeps in steps of up to 100 ms: under concurrent
        # writes that sleeping, not the writing, would take most of the time.
        with self._write_lock, self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the caller holds _write_lock (write() or a GroupCommit)."""
        conn = self.conn()
        with self._process_lock():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _process_lock(self):
        if self._lock_file is None:
            yield
            return
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def migrate(self) -> int:
        """Bring the schema up to date; safe to run from several processes at once."""
        with self.write() as conn:
            done = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[done:], start=done + 1):
                if callable(script):
                    script(conn)
                    conn.execute(f"PRAGMA user_version = {number}")
                    continue
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
            return len(MIGRATIONS)

    def schema_version(self) -> int:
        return self.conn().execute("PRAGMA user_version").fetchone()[0]

    def ping(self) -> None:
        self.conn().execute("SELECT 1").fetchone()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- small helpers used by the repositories ----------------------------------------------

    def insert(self, table: str, record, **columns) -> None:
        """One row in its own transaction: the indexed columns given, and the record as doc."""
        names = (*columns, "doc")
        with self.write() as c:
            c.execute(f"INSERT INTO {table} ({', '.join(names)}) "
                      f"VALUES ({', '.join('?' * len(names))})", (*columns.values(), dumps(record)))

    def one(self, cls, sql: str, params=()):
        row = self.conn().execute(sql, params).fetchone()
        return from_doc(cls, loads(row[0])) if row else None

    def many(self, cls, sql: str, params=()) -> list:
        return list(readable_records(cls, self.conn().execute(sql, params)))

    def patch(self, cls, table: str, where: str, params: tuple, changes: dict, *,
              columns: tuple[str, ...] = (), stamp: bool = True):
        """Merge changes into one row's doc (and the indexed columns that mirror doc fields)
        in one transaction; None if no row matches. stamp sets updated_at."""
        with self.write() as c:
            row = c.execute(f"SELECT id, doc FROM {table} WHERE {where}", params).fetchone()
            if row is None:
                return None
            doc = {**loads(row[1]), **changes}
            if stamp:
                doc["updated_at"] = utc_now()
            assignments = ", ".join(f"{column} = ?" for column in ("doc", *columns))
            c.execute(f"UPDATE {table} SET {assignments} WHERE id = ?",
                      (dumps(doc), *(doc[column] for column in columns), row[0]))
        return from_doc(cls, doc)

    def page(self, cls, sql: str, params: list, after: str | None, limit: int) -> Page:
        """sql selects doc and filters with WHERE; this adds the cursor, order and limit."""
        if after:
            sql += " AND id > ?"
            params = [*params, after]
        items = self.many(cls, sql + " ORDER BY id LIMIT ?", [*params, limit + 1])
        more = len(items) > limit
        items = items[:limit]
        return Page(items, items[-1].id if more else None)
