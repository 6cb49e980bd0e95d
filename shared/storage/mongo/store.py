"""MongoStore: the client, transactions, init-db's collections and indexes, and the
repositories on them."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pymongo
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import CollectionInvalid, ConnectionFailure, OperationFailure, PyMongoError

from ..interface import StorageError, Store
from ..models import Page
from . import console
from .records import (
    _ApiKeys, _Audit, _Briefs, _Deliveries, _Instruments, _Invitations, _Organizations,
    _Surveys, _Webhooks,
)
from .responses import _Aggregates, _LostRace, _Responses
from .schema import (
    LEGACY_RESPONSES_UNIQUE, RESPONSES_UNIQUE, SHARD_KEYS, from_mongo, shard_prefix,
)

DEFAULT_TIMEOUT_MS = 5000
# How often a response's transaction restarts at once after losing a submission-id race.
LOST_RACE_RESTARTS = 3
COMMAND_NOT_FOUND = 59


def names_replica_set(url: str) -> bool:
    return url.startswith("mongodb+srv://") or "replicaSet" in parse_qs(urlparse(url).query)


def is_unavailable(error: BaseException) -> bool:
    """A timeout, an unreachable server or a lost primary: worth retrying later (503)."""
    return isinstance(error, PyMongoError) and (
        error.timeout or isinstance(error, ConnectionFailure))


class MongoStore(Store):
    def __init__(self, url: str, client_factory=None, *, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 require_transactions: bool = False):
        self.url = url
        self.timeout_ms = timeout_ms
        # In production against a replica set, running without transactions would silently
        # drop the all-or-nothing batches and the outbox: refuse instead.
        self.require_transactions = require_transactions
        self._client_factory = client_factory or (
            lambda: pymongo.MongoClient(url, w="majority", timeoutMS=timeout_ms,
                                        serverSelectionTimeoutMS=timeout_ms,
                                        uuidRepresentation="standard", tz_aware=True,
                                        # A string that is not UTF-8 (written by another
                                        # client) reads as U+FFFD instead of stopping a cursor.
                                        unicode_decode_error_handler="replace"))
        self._client = None
        self._pid = None
        self._transactions: bool | None = None
        self.db_name = urlparse(url).path.lstrip("/") or "survey"
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

    @property
    def client(self):
        if self._client is None or self._pid != os.getpid():
            self._client = self._client_factory()
            self._pid = os.getpid()
            self._transactions = None
        return self._client

    @property
    def db(self):
        return self.client[self.db_name]

    def _hello(self) -> dict:
        """The server's hello, or {} when it answered but has no such command (mongomock, very
        old servers). A server that did not answer raises: that tells nothing about it."""
        try:
            return self.client.admin.command("hello")
        except OperationFailure as exc:
            if exc.code == COMMAND_NOT_FOUND:
                return {}
            raise  # e.g. authentication failed: says nothing about transactions
        except NotImplementedError:  # mongomock-ng
            return {}

    def supports_transactions(self) -> bool:
        if self._transactions is None:
            hello = self._hello()  # raises, caching nothing, if no server answered
            supported = bool(hello.get("logicalSessionTimeoutMinutes")) and (
                bool(hello.get("setName")) or hello.get("msg") == "isdbgrid")
            if not supported and self.require_transactions:
                raise StorageError(
                    "The MongoDB server answered without transaction support (not a replica "
                    "set member or mongos); production against a replica set needs them.")
            self._transactions = supported
        return self._transactions

    def is_mongos(self) -> bool:
        return self._hello().get("msg") == "isdbgrid"

    @contextmanager
    def transaction(self) -> Iterator[object]:
        """Yields a session inside a transaction where the server has them, else None."""
        if not self.supports_transactions():
            yield None
            return
        with self.client.start_session() as session, session.start_transaction():
            yield session

    def run_transaction(self, work):
        """work(session) with pymongo's retries on transient errors where transactions exist,
        and at once again after a lost submission-id race (see _Responses)."""
        if not self.supports_transactions():
            return work(None)
        with self.client.start_session() as session:
            for _ in range(LOST_RACE_RESTARTS):
                try:
                    return session.with_transaction(work)
                except _LostRace:
                    continue  # aborted; the next attempt's plan reads the winner
            return session.with_transaction(work)

    def ping(self) -> None:
        self.client.admin.command("ping")

    def check(self) -> None:
        """What a service verifies when it first opens the store: reachable, transactions as
        required, and the database initialised by init-db (reads only: no createIndex rights)."""
        self.ping()
        self.supports_transactions()
        if RESPONSES_UNIQUE not in self.db.responses.index_information():
            raise StorageError("The database has no responses index of this version: run "
                               "`flask --app survey_api init-db` first.")

    def initialize(self) -> list[str]:
        """Collections, indexes, legacy documents' shard prefix and, on a mongos, shard keys.
        Idempotent. Returns what it did, for the CLI to print."""
        db = self.db
        done = []
        existing = set(db.list_collection_names())
        for name in ("organizations", "api_keys", "instruments", "surveys", "invitations",
                     "responses", "aggregates", "briefs", "brief_files", "webhooks",
                     "deliveries", "audit", "console_users", "outbox", "invitation_tally"):
            if name not in existing:
                try:
                    db.create_collection(name)
                    done.append(f"created collection {name}")
                except CollectionInvalid:  # created meanwhile by another init-db
                    pass
        for name in ("responses", "aggregates"):
            for survey_id in db[name].distinct("survey_id", {"sk": {"$exists": False}}):
                db[name].update_many({"survey_id": survey_id, "sk": {"$exists": False}},
                                     {"$set": {"sk": shard_prefix(survey_id)}})
                done.append(f"added the shard prefix to {name} of survey {survey_id}")
        db.organizations.create_index([("name", ASCENDING)], unique=True)
        db.api_keys.create_index([("key_hash", ASCENDING)], unique=True)
        db.api_keys.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
        db.instruments.create_index(
            [("org_id", ASCENDING), ("id", ASCENDING), ("version", ASCENDING)], unique=True)
        db.surveys.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
        db.invitations.create_index([("token_hash", ASCENDING)], unique=True)
        db.invitations.create_index([("survey_id", ASCENDING), ("_id", ASCENDING)])
        db.invitation_tally.create_index(
            [("survey_id", ASCENDING), ("attributes", ASCENDING), ("status", ASCENDING)],
            unique=True)
        done += self._count_invitations(db)
        db.responses.create_index(list(SHARD_KEYS["responses"].items()), unique=True,
                                  name=RESPONSES_UNIQUE)
        db.responses.create_index([("survey_id", ASCENDING), ("_id", ASCENDING)])
        # Only pending responses are in it: the folder's and the reports' lookups stay small.
        db.responses.create_index([("pending", ASCENDING), ("survey_id", ASCENDING)],
                                  name="pending_survey",
                                  partialFilterExpression={"pending": True})
        db.aggregates.create_index(list(SHARD_KEYS["aggregates"].items()))
        db.aggregates.create_index([("survey_id", ASCENDING)])
        db.briefs.create_index([("org_id", ASCENDING), ("survey_id", ASCENDING),
                                ("_id", ASCENDING)])
        db.webhooks.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
        db.audit.create_index([("org_id", ASCENDING), ("_id", DESCENDING)])
        db.deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        db.deliveries.create_index([("webhook_id", ASCENDING), ("_id", ASCENDING)])
        console.ensure_indexes(db)
        done.append("indexes ensured")
        # Dropped only once its successor exists: uniqueness never lapses during an upgrade.
        if LEGACY_RESPONSES_UNIQUE in db.responses.index_information():
            db.responses.drop_index(LEGACY_RESPONSES_UNIQUE)
            done.append(f"dropped index {LEGACY_RESPONSES_UNIQUE}, replaced by {RESPONSES_UNIQUE}")
        if self.is_mongos():
            done += self._shard_collections()
        self.supports_transactions()  # refuses here, at init, if production needs them
        return done

    def _count_invitations(self, db) -> list[str]:
        """A database of the previous version has invitations but no tally: count them once."""
        if db.invitation_tally.find_one() is not None or db.invitations.find_one() is None:
            return []
        for survey_id in db.invitations.distinct("survey_id"):
            self.invitations.replace_tally(survey_id, [
                (row.get("attributes"), row["status"], 1)
                for row in db.invitations.find({"survey_id": survey_id},
                                               {"attributes": 1, "status": 1})])
        return ["counted the invitations into invitation_tally"]

    def _shard_collections(self) -> list[str]:
        admin = self.client.admin
        admin.command("enableSharding", self.db_name)
        done = []
        for name, key in SHARD_KEYS.items():
            options = {"unique": True} if name == "responses" else {}
            admin.command("shardCollection", f"{self.db_name}.{name}", key=key, **options)
            done.append(f"sharded {name} on {key}")
        return done

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def page(self, cls, collection, query: dict, after, limit) -> Page:
        if after:
            query = {**query, "_id": {"$gt": after}}
        docs = list(collection.find(query).sort("_id", ASCENDING).limit(limit + 1))
        items = [from_mongo(cls, d) for d in docs[:limit]]
        return Page(items, items[-1].id if len(docs) > limit else None)
