"""The console's repositories on SQLite: console users and the mail outbox."""

from __future__ import annotations

import sqlite3

from ..codec import dumps, from_doc, loads
from ..interface import AlreadyExists, ConsoleUserRepository, OutboxRepository
from ..models import ConsoleUser, OutboxMail

MIGRATION = """
    CREATE TABLE console_users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        email TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL
    );
    CREATE INDEX console_users_org ON console_users(org_id, id);
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        survey_id TEXT,
        status TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    CREATE INDEX outbox_org ON outbox(org_id, id)
"""


class ConsoleUsers(ConsoleUserRepository):
    def __init__(self, store):
        self.store = store

    def add(self, user):
        try:
            self.store.insert("console_users", user, id=user.id, org_id=user.org_id,
                              email=user.email)
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"a console user {user.email!r} exists") from exc
        return user

    def get(self, user_id):
        return self.store.one(ConsoleUser, "SELECT doc FROM console_users WHERE id = ?",
                              (user_id,))

    def find_by_email(self, email):
        return self.store.one(ConsoleUser, "SELECT doc FROM console_users WHERE email = ?",
                              (email,))

    def list(self, org_id):
        return self.store.many(ConsoleUser, "SELECT doc FROM console_users WHERE org_id = ? "
                                            "ORDER BY id", (org_id,))

    def update(self, user_id, changes):
        return self.store.patch(ConsoleUser, "console_users", "id = ?", (user_id,), changes,
                                columns=("email",))


class Outbox(OutboxRepository):
    def __init__(self, store):
        self.store = store

    def add_many(self, mails):
        with self.store.write() as c:
            c.executemany(
                "INSERT INTO outbox (id, org_id, survey_id, status, next_attempt_at, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(m.id, m.org_id, m.survey_id, m.status, m.next_attempt_at, dumps(m))
                 for m in mails])

    def claim_due(self, now, lease_until, limit=50):
        with self.store.write() as c:
            rows = c.execute(
                "SELECT id, doc FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?", (now, limit)).fetchall()
            claimed = []
            for mail_id, doc in rows:
                doc = {**loads(doc), "next_attempt_at": lease_until}
                c.execute("UPDATE outbox SET next_attempt_at = ?, doc = ? WHERE id = ?",
                          (lease_until, dumps(doc), mail_id))
                claimed.append(from_doc(OutboxMail, doc))
        return claimed

    def update(self, mail_id, changes):
        return self.store.patch(OutboxMail, "outbox", "id = ?", (mail_id,), changes,
                                columns=("status", "next_attempt_at"))

    def list(self, org_id, survey_id=None, limit=100):
        sql, params = "SELECT doc FROM outbox WHERE org_id = ?", [org_id]
        if survey_id is not None:
            sql += " AND survey_id = ?"
            params.append(survey_id)
        return self.store.many(OutboxMail, sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
