"""The embedded backend: SQLite from the standard library, one file, no server.

WAL journal (readers never block the writer), foreign keys on, synchronous=FULL so that a
response acknowledged to a client survives a crash of the process or the machine. Each thread has
its own connection; every write is one `BEGIN IMMEDIATE` transaction, which serializes writers
across gunicorn workers and makes "look up the submission id, then insert" race-free. Responses
posted at the same moment by one worker's threads share a transaction (group_commit.py).

Each table keeps the columns it is queried by, plus `doc`: the whole record as JSON.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..ids import new_token
from .codec import dumps, from_doc, loads
from .group_commit import GroupCommit
from . import sqlite_console
from .interface import (
    AggregateRepository,
    AlreadyExists,
    AuditRepository,
    ApiKeyRepository,
    BriefRepository,
    DeliveryRepository,
    InstrumentRepository,
    InvitationRepository,
    OrganizationRepository,
    ResponseRepository,
    Store,
    SurveyRepository,
    WebhookRepository,
    plan_batch,
    sum_counters,
)
from .models import (
    ApiKey,
    AuditEvent,
    Brief,
    Delivery,
    Instrument,
    Invitation,
    NewResponse,
    Organization,
    Page,
    Response,
    Survey,
    Webhook,
    utc_now,
)

log = logging.getLogger(__name__)


def _readable(cls, rows):
    """Records from (doc,) rows; a row whose document cannot be read at all (corrupted
    outside this code) is logged and left out, so it cannot stop a listing or an export."""
    for row in rows:
        try:
            yield from_doc(cls, loads(row[-1]))
        except (ValueError, TypeError) as exc:
            log.error("unreadable stored record skipped",
                      extra={"kind": cls.__name__, "error": type(exc).__name__})


# Schema migrations, applied in order; PRAGMA user_version holds how many have run.
# Append new ones; never edit one that has shipped.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE organizations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL
    );
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        key_hash TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL
    );
    CREATE INDEX api_keys_org ON api_keys(org_id, id);
    CREATE TABLE instruments (
        org_id TEXT NOT NULL,            -- '' for the built-in instruments
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (org_id, id, version)
    );
    CREATE TABLE surveys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        doc TEXT NOT NULL
    );
    CREATE INDEX surveys_org ON surveys(org_id, id);
    CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        survey_id TEXT NOT NULL REFERENCES surveys(id),
        token_hash TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX invitations_survey ON invitations(survey_id, id);
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        survey_id TEXT NOT NULL REFERENCES surveys(id),
        submission_id TEXT NOT NULL,
        instrument TEXT NOT NULL,
        source TEXT NOT NULL,
        complete INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        doc TEXT NOT NULL,
        UNIQUE (survey_id, submission_id)
    );
    CREATE INDEX responses_survey ON responses(survey_id, id);
    CREATE TABLE aggregates (
        survey_id TEXT NOT NULL,
        cell_key TEXT NOT NULL,
        counter TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (survey_id, cell_key, counter)
    ) WITHOUT ROWID;
    CREATE TABLE briefs (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        survey_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        pdf BLOB NOT NULL
    );
    CREATE INDEX briefs_survey ON briefs(org_id, survey_id, id);
    """,
    """
    CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        doc TEXT NOT NULL
    );
    CREATE INDEX webhooks_org ON webhooks(org_id, id);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        webhook_id TEXT NOT NULL,
        status TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
    CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
    """,
    """
    CREATE TABLE audit (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX audit_org ON audit(org_id, id);
    """,
    # One row per cell holding all its counters as a JSON object, instead of one row per
    # counter: a batch of 1,000 responses touched ~2,500 counter rows (a third of its write
    # time); now it reads and rewrites the ~10 cells it falls in, and a report reads 10 rows.
    """
    CREATE TABLE cell_counts (
        survey_id TEXT NOT NULL,
        cell_key TEXT NOT NULL,
        counts TEXT NOT NULL,
        PRIMARY KEY (survey_id, cell_key)
    );
    INSERT INTO cell_counts (survey_id, cell_key, counts)
        SELECT survey_id, cell_key, json_group_object(counter, count)
        FROM aggregates GROUP BY survey_id, cell_key;
    DROP TABLE aggregates;
    """,
    sqlite_console.MIGRATION,
]


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
        self.console_users = sqlite_console.ConsoleUsers(self)
        self.outbox = sqlite_console.Outbox(self)

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
        # writes that sleeping, not the writing, was most of the time.
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
        return list(_readable(cls, self.conn().execute(sql, params)))

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


class _Repo:
    def __init__(self, store: SqliteStore):
        self.store = store


class _Organizations(_Repo, OrganizationRepository):
    def add(self, org: Organization) -> Organization:
        try:
            self.store.insert("organizations", org, id=org.id, name=org.name)
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"organization {org.name!r} exists") from exc
        return org

    def get(self, org_id):
        return self.store.one(Organization, "SELECT doc FROM organizations WHERE id = ?", (org_id,))

    def find_by_name(self, name):
        return self.store.one(Organization, "SELECT doc FROM organizations WHERE name = ?", (name,))


class _ApiKeys(_Repo, ApiKeyRepository):
    def add(self, key: ApiKey) -> ApiKey:
        self.store.insert("api_keys", key, id=key.id, org_id=key.org_id, key_hash=key.key_hash)
        return key

    def find_by_hash(self, key_hash):
        return self.store.one(ApiKey, "SELECT doc FROM api_keys WHERE key_hash = ?", (key_hash,))

    def list(self, org_id):
        return self.store.many(ApiKey, "SELECT doc FROM api_keys WHERE org_id = ? ORDER BY id",
                               (org_id,))

    def revoke(self, org_id, key_id, when):
        with self.store.write() as c:
            c.execute(
                "UPDATE api_keys SET doc = json_set(doc, '$.revoked_at', ?) "
                "WHERE org_id = ? AND id = ? AND json_extract(doc, '$.revoked_at') IS NULL",
                (when, org_id, key_id),
            )
        return self.store.one(ApiKey, "SELECT doc FROM api_keys WHERE org_id = ? AND id = ?",
                              (org_id, key_id))


class _Instruments(_Repo, InstrumentRepository):
    def add(self, instrument: Instrument) -> Instrument:
        try:
            self.store.insert("instruments", instrument, org_id=instrument.org_id or "",
                              id=instrument.id, version=instrument.version)
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"instrument {instrument.id} v{instrument.version} exists") from exc
        return instrument

    def get(self, org_id, instrument_id, version=None):
        sql = "SELECT doc FROM instruments WHERE org_id IN (?, '') AND id = ?"
        params: list = [org_id or "", instrument_id]
        if version is not None:
            sql += " AND version = ?"
            params.append(version)
        # An organization's own instrument wins over a built-in one of the same id.
        return self.store.one(Instrument, sql + " ORDER BY org_id DESC, version DESC LIMIT 1",
                              params)

    def list(self, org_id):
        return self.store.many(
            Instrument,
            "SELECT doc FROM instruments WHERE org_id IN (?, '') ORDER BY org_id, id, version",
            (org_id or "",),
        )


class _Surveys(_Repo, SurveyRepository):
    def add(self, survey: Survey) -> Survey:
        self.store.insert("surveys", survey, id=survey.id, org_id=survey.org_id)
        return survey

    def get(self, org_id, survey_id):
        return self.store.one(Survey, "SELECT doc FROM surveys WHERE org_id = ? AND id = ?",
                              (org_id, survey_id))

    def get_any(self, survey_id):
        return self.store.one(Survey, "SELECT doc FROM surveys WHERE id = ?", (survey_id,))

    def list(self, org_id, after=None, limit=50):
        return self.store.page(Survey, "SELECT doc FROM surveys WHERE org_id = ?", [org_id],
                               after, limit)

    def update(self, org_id, survey_id, changes):
        return self.store.patch(Survey, "surveys", "org_id = ? AND id = ?", (org_id, survey_id),
                                changes)


class _Invitations(_Repo, InvitationRepository):
    def add_many(self, invitations):
        with self.store.write() as c:
            c.executemany(
                "INSERT INTO invitations (id, org_id, survey_id, token_hash, status, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(i.id, i.org_id, i.survey_id, i.token_hash, i.status, dumps(i))
                 for i in invitations],
            )

    def get(self, org_id, invitation_id):
        return self.store.one(Invitation,
                              "SELECT doc FROM invitations WHERE org_id = ? AND id = ?",
                              (org_id, invitation_id))

    def find_by_token_hash(self, token_hash):
        return self.store.one(Invitation, "SELECT doc FROM invitations WHERE token_hash = ?",
                              (token_hash,))

    def list(self, org_id, survey_id, after=None, limit=50, status=None):
        sql = "SELECT doc FROM invitations WHERE org_id = ? AND survey_id = ?"
        params: list = [org_id, survey_id]
        if status:
            sql += " AND status = ?"
            params.append(status)
        return self.store.page(Invitation, sql, params, after, limit)

    def update(self, org_id, invitation_id, changes):
        return self.store.patch(Invitation, "invitations", "org_id = ? AND id = ?",
                                (org_id, invitation_id), changes, columns=("status",))


class _Responses(_Repo, ResponseRepository):
    def __init__(self, store: SqliteStore):
        super().__init__(store)
        # Concurrent posts in this process share a transaction (see group_commit).
        self._group = GroupCommit(store._write_lock, store._transaction, self._add_in)

    def add(self, new, outbox=None):
        return self.add_many([new], outbox=outbox)[0]

    def add_many(self, batch: list[NewResponse], outbox=None):
        # Each item carries its caller's outbox: a group holds several callers' items.
        return self._group.submit([(new, outbox) for new in batch])

    def _add_in(self, c: sqlite3.Connection, items: list[tuple[NewResponse, object]]):
        batch = [new for new, _ in items]
        plan = plan_batch(batch, self._existing(c, batch))
        inserts = [plan.final[p] for p in plan.inserts.values()]
        updates = [plan.final[p] for p in plan.updates.values()]
        c.executemany(
            "INSERT INTO responses (id, org_id, survey_id, submission_id, instrument, source,"
            " complete, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.id, r.org_id, r.survey_id, r.submission_id, r.instrument, r.source,
              int(r.complete), r.created_at, dumps(r))
             for r in (n.response for n in inserts)],
        )
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
        _insert_deliveries(c, deliveries)

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
            yield from _readable(Response, rows)
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


class _Aggregates(_Repo, AggregateRepository):
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
    c.executemany("INSERT INTO cell_counts (survey_id, cell_key, counts) VALUES (?, ?, ?) "
                  "ON CONFLICT (survey_id, cell_key) DO UPDATE SET counts = excluded.counts",
                  writes)
    c.executemany("DELETE FROM cell_counts WHERE survey_id = ? AND cell_key = ?", deletes)


class _Briefs(_Repo, BriefRepository):
    def add(self, brief, pdf):
        self.store.insert("briefs", brief, id=brief.id, org_id=brief.org_id,
                          survey_id=brief.survey_id, pdf=pdf)
        return brief

    def get(self, org_id, brief_id):
        return self.store.one(Brief, "SELECT doc FROM briefs WHERE org_id = ? AND id = ?",
                              (org_id, brief_id))

    def get_pdf(self, org_id, brief_id):
        row = self.store.conn().execute("SELECT pdf FROM briefs WHERE org_id = ? AND id = ?",
                                        (org_id, brief_id)).fetchone()
        return bytes(row[0]) if row else None

    def list(self, org_id, survey_id):
        return self.store.many(
            Brief, "SELECT doc FROM briefs WHERE org_id = ? AND survey_id = ? ORDER BY id",
            (org_id, survey_id))

    def revoke_links(self, org_id, brief_id):
        with self.store.write() as c:
            row = c.execute("SELECT doc FROM briefs WHERE org_id = ? AND id = ?",
                            (org_id, brief_id)).fetchone()
            if row is None:
                return None
            doc = loads(row[0])
            doc["share_generation"] = doc.get("share_generation", 0) + 1
            c.execute("UPDATE briefs SET doc = ? WHERE id = ?", (dumps(doc), brief_id))
        return from_doc(Brief, doc)

    def delete(self, org_id, brief_id):
        with self.store.write() as c:
            return c.execute("DELETE FROM briefs WHERE org_id = ? AND id = ?",
                             (org_id, brief_id)).rowcount == 1


class _Webhooks(_Repo, WebhookRepository):
    def add(self, webhook):
        self.store.insert("webhooks", webhook, id=webhook.id, org_id=webhook.org_id)
        return webhook

    def get(self, org_id, webhook_id):
        return self.store.one(Webhook, "SELECT doc FROM webhooks WHERE org_id = ? AND id = ?",
                              (org_id, webhook_id))

    def list(self, org_id):
        return self.store.many(Webhook, "SELECT doc FROM webhooks WHERE org_id = ? ORDER BY id",
                               (org_id,))

    def update(self, org_id, webhook_id, changes):
        return self.store.patch(Webhook, "webhooks", "org_id = ? AND id = ?",
                                (org_id, webhook_id), changes, stamp=False)

    def delete(self, org_id, webhook_id):
        with self.store.write() as c:
            return c.execute("DELETE FROM webhooks WHERE org_id = ? AND id = ?",
                             (org_id, webhook_id)).rowcount == 1


class _Deliveries(_Repo, DeliveryRepository):
    def add_many(self, deliveries):
        with self.store.write() as c:
            _insert_deliveries(c, deliveries)

    def claim_due(self, now, lease_until, limit=50, *, per_webhook=None, skip_webhooks=()):
        skip = sorted(skip_webhooks)
        lease = new_token(12)
        with self.store.write() as c:
            rows = c.execute(
                "SELECT id, doc FROM (SELECT id, doc, next_attempt_at, ROW_NUMBER() OVER ("
                "PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS nth FROM deliveries "
                "WHERE status = 'pending' AND next_attempt_at <= ?"
                f" AND webhook_id NOT IN ({','.join('?' * len(skip))})) WHERE nth <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?",
                (now, *skip, per_webhook or limit, limit)).fetchall()
            claimed = []
            for delivery_id, doc in rows:
                try:
                    doc = {**loads(doc), "next_attempt_at": lease_until, "lease": lease}
                    delivery = from_doc(Delivery, doc)
                except (ValueError, TypeError):
                    # Unreadable: it fails alone instead of stopping every delivery behind it.
                    c.execute("UPDATE deliveries SET status = 'failed' WHERE id = ?",
                              (delivery_id,))
                    log.error("unreadable webhook delivery failed", extra={"delivery": delivery_id})
                    continue
                c.execute("UPDATE deliveries SET next_attempt_at = ?, doc = ? WHERE id = ?",
                          (lease_until, dumps(doc), delivery_id))
                claimed.append(delivery)
        return claimed

    def begin_attempt(self, delivery_id, lease, held_until):
        with self.store.write() as c:
            row = c.execute(
                "SELECT doc FROM deliveries WHERE id = ? AND status = 'pending' AND "
                "next_attempt_at >= ? AND json_extract(doc, '$.lease') = ?",
                (delivery_id, held_until, lease)).fetchone()
            if row is None:
                return None
            doc = loads(row[0])
            doc.update(attempts=doc.get("attempts", 0) + 1, updated_at=utc_now())
            c.execute("UPDATE deliveries SET doc = ? WHERE id = ?", (dumps(doc), delivery_id))
        return from_doc(Delivery, doc)

    def update(self, delivery_id, changes, lease=None):
        if lease is None:
            return self.store.patch(Delivery, "deliveries", "id = ?", (delivery_id,), changes,
                                    columns=("status", "next_attempt_at"))
        return self.store.patch(Delivery, "deliveries",
                                "id = ? AND json_extract(doc, '$.lease') = ?",
                                (delivery_id, lease), {**changes, "lease": None},
                                columns=("status", "next_attempt_at"))

    def list(self, org_id, webhook_id, limit=50):
        return self.store.many(
            Delivery, "SELECT doc FROM deliveries WHERE org_id = ? AND webhook_id = ? "
                      "ORDER BY id DESC LIMIT ?", (org_id, webhook_id, limit))


def _insert_deliveries(c: sqlite3.Connection, deliveries) -> None:
    c.executemany(
        "INSERT INTO deliveries (id, org_id, webhook_id, status, next_attempt_at, doc) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(d.id, d.org_id, d.webhook_id, d.status, d.next_attempt_at, dumps(d))
         for d in deliveries])


class _Audit(_Repo, AuditRepository):
    def add(self, event):
        self.store.insert("audit", event, id=event.id, org_id=event.org_id)
        return event

    def list(self, org_id, limit=100):
        return self.store.many(AuditEvent, "SELECT doc FROM audit WHERE org_id = ? "
                                           "ORDER BY id DESC LIMIT ?", (org_id, limit))
