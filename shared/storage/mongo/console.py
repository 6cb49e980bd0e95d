"""The console's repositories on MongoDB: console users and the mail outbox."""

from __future__ import annotations

import pymongo
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from ..interface import AlreadyExists, ConsoleUserRepository, OutboxRepository
from ..models import ConsoleUser, OutboxMail, utc_now
from .schema import from_mongo, to_mongo


def ensure_indexes(db) -> None:
    db.console_users.create_index([("email", ASCENDING)], unique=True)
    db.console_users.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
    db.outbox.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
    db.outbox.create_index([("org_id", ASCENDING), ("_id", DESCENDING)])


class ConsoleUsers(ConsoleUserRepository):
    def __init__(self, store):
        self.store = store

    def add(self, user):
        try:
            self.store.db.console_users.insert_one(to_mongo(user))
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"a console user {user.email!r} exists") from exc
        return user

    def get(self, user_id):
        return from_mongo(ConsoleUser, self.store.db.console_users.find_one({"_id": user_id}))

    def find_by_email(self, email):
        return from_mongo(ConsoleUser, self.store.db.console_users.find_one({"email": email}))

    def list(self, org_id):
        cursor = self.store.db.console_users.find({"org_id": org_id}).sort("_id", ASCENDING)
        return [from_mongo(ConsoleUser, d) for d in cursor]

    def update(self, user_id, changes):
        changes = {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()}
        doc = self.store.db.console_users.find_one_and_update(
            {"_id": user_id}, {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER)
        return from_mongo(ConsoleUser, doc)


class Outbox(OutboxRepository):
    def __init__(self, store):
        self.store = store

    def add_many(self, mails):
        if mails:
            self.store.db.outbox.insert_many([to_mongo(m) for m in mails])

    def claim_due(self, now, lease_until, limit=50):
        claimed = []
        for _ in range(limit):
            # One document at a time, atomically: a concurrent sender cannot claim it too.
            doc = self.store.db.outbox.find_one_and_update(
                {"status": "pending", "next_attempt_at": {"$lte": now}},
                {"$set": {"next_attempt_at": lease_until}},
                sort=[("next_attempt_at", ASCENDING), ("_id", ASCENDING)],
                return_document=pymongo.ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(from_mongo(OutboxMail, doc))
        return claimed

    def update(self, mail_id, changes):
        doc = self.store.db.outbox.find_one_and_update(
            {"_id": mail_id}, {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER)
        return from_mongo(OutboxMail, doc)

    def list(self, org_id, survey_id=None, limit=100):
        query = {"org_id": org_id}
        if survey_id is not None:
            query["survey_id"] = survey_id
        cursor = self.store.db.outbox.find(query).sort("_id", DESCENDING).limit(limit)
        return [from_mongo(OutboxMail, d) for d in cursor]
