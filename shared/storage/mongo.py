"""The MongoDB backend, through pymongo.

Writes use write concern "majority" so an acknowledged response is on most replica-set members,
and every operation is bounded by the client's `timeoutMS` (a lost majority or a primary
election surfaces as a timeout, which the services answer with 503 and Retry-After).

Counters are not written in the response's transaction. Every complete response of a busy survey
increments one of ~10 cell documents, and on a replica set two transactions touching the same
document collide (WriteConflict, retried with backoff): concurrent posts would take turns. So a
response is stored with a pending mark and the counter names it adds one to; `fold_pending`
later folds pending responses into the cell documents in a separate step, and a report adds
what is still pending. A fold is idempotent without relying on a transaction:
  1. claim: mark up to N pending responses with a fold id (or take over a fold whose lease ran
     out: its folder died);
  2. per cell, one update that $inc's the sums AND pushes the fold id, guarded by
     `folds: {$ne: fold id}` - a replayed step 2 matches nothing;
  3. clear the pending marks of the fold's responses;
  4. pull the fold id from the cells.
A report counts a pending response unless its fold id is already in its cell's `folds` list, so
it is exact between any two steps (tests/test_mongo_wire.py kills a fold between them). On a
replica set the four steps also run in one transaction (one folder's transaction, never a
post's), so readers see a fold whole and a lease taken over from a live folder cannot double
count.

The response's transaction still holds the response, a replaced draft, and its webhook
deliveries (an outbox: a crash after the commit loses no event). A DuplicateKey error there
(a concurrent writer won the race for the submission id) aborts the transaction: it is
restarted at once, and the restarted plan finds the winner.

Sharding: responses and counters carry `sk`, two hex bytes of a hash of the survey id, first in
their shard keys (survey ids start with a timestamp, so a ranged key on them alone would send
every new survey to the last chunk). Upserts and single-document reads name the full shard key.
See SHARD_KEYS and the README's scaling section.

Indexes, collections and shard keys are made by `initialize()` (`flask --app survey_api
init-db`), never at process start: a service only checks that they are there.

The client is made lazily in the process that uses it (never before gunicorn forks).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pymongo
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import (
    BulkWriteError, CollectionInvalid, ConnectionFailure, DuplicateKeyError, OperationFailure,
    PyMongoError,
)
from pymongo.read_concern import ReadConcern

from .. import ids
from ..ids import new_token
from . import mongo_console
from .codec import from_doc, to_doc
from .interface import (
    CONFLICT,
    DUPLICATE,
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
    StorageError,
    Store,
    SurveyRepository,
    WebhookRepository,
    decide,
    plan_batch,
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
    to_timestamp,
    utc_now,
)

DEFAULT_TIMEOUT_MS = 5000
# A fold claimed longer ago than this is taken over: its folder is presumed dead.
FOLD_LEASE = timedelta(minutes=5)
FOLD_BATCH = 2000
# How often a response's transaction restarts at once after losing a submission-id race.
LOST_RACE_RESTARTS = 3
COMMAND_NOT_FOUND = 59

# Shard keys, applied by initialize() when the server is a mongos. The unique index of
# responses IS its shard key (a sharded unique index must start with the shard key), and
# (sk, survey_id, submission_id) is unique exactly when (survey_id, submission_id) is, because
# sk is a function of survey_id. Within one survey, chunks split on submission ids, so even one
# huge survey spreads over shards.
SHARD_KEYS = {
    "responses": {"sk": 1, "survey_id": 1, "submission_id": 1},
    "aggregates": {"sk": 1, "_id": 1},
}
RESPONSES_UNIQUE = "sk_1_survey_id_1_submission_id_1"
LEGACY_RESPONSES_UNIQUE = "survey_id_1_submission_id_1"


def shard_prefix(survey_id: str) -> str:
    """Two bytes of a hash of the survey id: new surveys land anywhere in the key space."""
    return hashlib.blake2b(survey_id.encode(), digest_size=2).hexdigest()


def _survey_filter(survey_id: str) -> dict:
    return {"sk": shard_prefix(survey_id), "survey_id": survey_id}


def names_replica_set(url: str) -> bool:
    return url.startswith("mongodb+srv://") or "replicaSet" in parse_qs(urlparse(url).query)


def is_unavailable(error: BaseException) -> bool:
    """A timeout, an unreachable server or a lost primary: worth retrying later (503)."""
    return isinstance(error, PyMongoError) and (
        error.timeout or isinstance(error, ConnectionFailure))


class _LostRace(Exception):
    """A DuplicateKey inside a transaction: the server has aborted it; restart from the top."""


def _result_index(results, response) -> int:
    for index, (stored, _) in enumerate(results):
        if stored is response:
            return index
    raise LookupError(response.id)


def _escape(counter: str) -> str:
    """Counter names become field names: MongoDB forbids '.' and a leading '$' there."""
    return counter.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _unescape(field: str) -> str:
    return field.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _to_mongo(record) -> dict:
    doc = to_doc(record)
    doc["_id"] = doc.pop("id")
    return doc


def _from_mongo(cls, doc):
    if doc is None:
        return None
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return from_doc(cls, doc)


def _response_doc(new: NewResponse) -> dict:
    r = new.response
    doc = _to_mongo(r)
    doc["sk"] = shard_prefix(r.survey_id)
    if r.complete:  # counted later by fold_pending; a draft is never counted
        doc["pending"] = True
        doc["counters"] = list(new.counters)
    return doc


def _cell_id(survey_id: str, cell: str) -> str:
    return f"{survey_id}|{cell}"


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
        self.console_users = mongo_console.ConsoleUsers(self)
        self.outbox = mongo_console.Outbox(self)

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
                     "deliveries", "audit", "console_users", "outbox"):
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
        mongo_console.ensure_indexes(db)
        done.append("indexes ensured")
        # Dropped only once its successor exists: uniqueness never lapses during an upgrade.
        if LEGACY_RESPONSES_UNIQUE in db.responses.index_information():
            db.responses.drop_index(LEGACY_RESPONSES_UNIQUE)
            done.append(f"dropped index {LEGACY_RESPONSES_UNIQUE}, replaced by {RESPONSES_UNIQUE}")
        if self.is_mongos():
            done += self._shard_collections()
        self.supports_transactions()  # refuses here, at init, if production needs them
        return done

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
        items = [_from_mongo(cls, d) for d in docs[:limit]]
        return Page(items, items[-1].id if len(docs) > limit else None)


class _Repo:
    def __init__(self, store: MongoStore):
        self.store = store


class _Organizations(_Repo, OrganizationRepository):
    def add(self, org):
        try:
            self.store.db.organizations.insert_one(_to_mongo(org))
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"organization {org.name!r} exists") from exc
        return org

    def get(self, org_id):
        return _from_mongo(Organization, self.store.db.organizations.find_one({"_id": org_id}))

    def find_by_name(self, name):
        return _from_mongo(Organization, self.store.db.organizations.find_one({"name": name}))


class _ApiKeys(_Repo, ApiKeyRepository):
    def add(self, key):
        self.store.db.api_keys.insert_one(_to_mongo(key))
        return key

    def find_by_hash(self, key_hash):
        return _from_mongo(ApiKey, self.store.db.api_keys.find_one({"key_hash": key_hash}))

    def list(self, org_id):
        cursor = self.store.db.api_keys.find({"org_id": org_id}).sort("_id", ASCENDING)
        return [_from_mongo(ApiKey, d) for d in cursor]

    def revoke(self, org_id, key_id, when):
        self.store.db.api_keys.update_one({"_id": key_id, "org_id": org_id, "revoked_at": None},
                                          {"$set": {"revoked_at": when}})
        return _from_mongo(ApiKey, self.store.db.api_keys.find_one({"_id": key_id,
                                                                    "org_id": org_id}))


class _Instruments(_Repo, InstrumentRepository):
    # Instruments are keyed by (org_id, id, version), so the record's id is not the _id.
    def add(self, instrument):
        doc = to_doc(instrument)
        try:
            self.store.db.instruments.insert_one(doc)
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"instrument {instrument.id} v{instrument.version} exists") from exc
        return instrument

    @staticmethod
    def _load(doc):
        if doc is None:
            return None
        doc = {k: v for k, v in doc.items() if k != "_id"}
        return from_doc(Instrument, doc)

    def get(self, org_id, instrument_id, version=None):
        query: dict = {"id": instrument_id, "org_id": {"$in": [org_id, None]}}
        if version is not None:
            query["version"] = version
        docs = list(self.store.db.instruments.find(query))
        # An organization's own instrument wins over a built-in one of the same id.
        docs.sort(key=lambda d: (d["org_id"] is not None, d["version"]), reverse=True)
        return self._load(docs[0]) if docs else None

    def list(self, org_id):
        docs = self.store.db.instruments.find({"org_id": {"$in": [org_id, None]}})
        items = [self._load(d) for d in docs]
        return sorted(items, key=lambda i: (i.org_id or "", i.id, i.version))


class _Surveys(_Repo, SurveyRepository):
    def add(self, survey):
        self.store.db.surveys.insert_one(_to_mongo(survey))
        return survey

    def get(self, org_id, survey_id):
        return _from_mongo(Survey, self.store.db.surveys.find_one({"_id": survey_id,
                                                                  "org_id": org_id}))

    def get_any(self, survey_id):
        return _from_mongo(Survey, self.store.db.surveys.find_one({"_id": survey_id}))

    def list(self, org_id, after=None, limit=50):
        return self.store.page(Survey, self.store.db.surveys, {"org_id": org_id}, after, limit)

    def update(self, org_id, survey_id, changes):
        doc = self.store.db.surveys.find_one_and_update(
            {"_id": survey_id, "org_id": org_id},
            {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER,
        )
        return _from_mongo(Survey, doc)


class _Invitations(_Repo, InvitationRepository):
    def add_many(self, invitations):
        if not invitations:
            return

        def work(session):
            self.store.db.invitations.insert_many([_to_mongo(i) for i in invitations],
                                                  session=session)
        self.store.run_transaction(work)

    def get(self, org_id, invitation_id):
        return _from_mongo(Invitation, self.store.db.invitations.find_one(
            {"_id": invitation_id, "org_id": org_id}))

    def find_by_token_hash(self, token_hash):
        return _from_mongo(Invitation, self.store.db.invitations.find_one(
            {"token_hash": token_hash}))

    def list(self, org_id, survey_id, after=None, limit=50, status=None):
        query = {"org_id": org_id, "survey_id": survey_id}
        if status:
            query["status"] = status
        return self.store.page(Invitation, self.store.db.invitations, query, after, limit)

    def update(self, org_id, invitation_id, changes):
        doc = self.store.db.invitations.find_one_and_update(
            {"_id": invitation_id, "org_id": org_id},
            {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER,
        )
        return _from_mongo(Invitation, doc)


class _Responses(_Repo, ResponseRepository):
    def add(self, new, outbox=None):
        return self.add_many([new], outbox=outbox)[0]

    def add_many(self, batch: list[NewResponse], outbox=None):
        return self.store.run_transaction(lambda session: self._add_many(batch, session, outbox))

    def _add_many(self, batch, session, outbox):
        db = self.store.db
        plan = plan_batch(batch, self._existing(batch, session))
        results, inserts, updates, final = plan.results, plan.inserts, plan.updates, plan.final
        written: list[NewResponse] = []
        if inserts:
            positions = list(inserts.values())
            lost: set[int] = set()
            try:
                db.responses.insert_many([_response_doc(final[p]) for p in positions],
                                         ordered=False, session=session)
            except BulkWriteError as exc:
                # A concurrent writer won the race for a submission id between our lookup and
                # our insert. Inside a transaction the server has aborted it: start again (the
                # new plan sees the winner). Without one, report what the winner stored.
                codes = {e.get("code") for e in exc.details.get("writeErrors", [])}
                if codes != {11000}:
                    raise
                if session is not None:
                    raise _LostRace() from exc
                lost = {positions[e["index"]] for e in exc.details["writeErrors"]}
            except DuplicateKeyError as exc:
                if session is not None:
                    raise _LostRace() from exc
                raise
            for p in positions:
                if p in lost:
                    self._lost_race(results, batch, p, final, session)
                else:
                    written.append(final[p])
        for key, p in updates.items():
            r = final[p].response
            done = db.responses.replace_one(
                {**_survey_filter(r.survey_id), "submission_id": r.submission_id,
                 "_id": r.id, "complete": False}, _response_doc(final[p]), session=session)
            if done.matched_count:
                written.append(final[p])
            else:  # completed by someone else meanwhile
                self._lost_race(results, batch, p, final, session)
        if outbox is not None:
            deliveries = outbox([n.response for n in written if n.response.complete])
            if deliveries:
                db.deliveries.insert_many([_to_mongo(d) for d in deliveries], session=session)
        return results

    def _lost_race(self, results, batch, position, final, session) -> None:
        r = batch[position].response
        winner = _from_mongo(Response, self.store.db.responses.find_one(
            {**_survey_filter(r.survey_id), "submission_id": r.submission_id},
            session=session))
        outcome = decide(winner, r)
        # The winner is stored; whatever we would have done now counts as a repeat of it.
        index = _result_index(results, final[position].response)
        results[index] = (winner, DUPLICATE if outcome == DUPLICATE else CONFLICT)

    def _existing(self, batch, session) -> dict[tuple[str, str], Response]:
        by_survey: dict[str, set[str]] = {}
        for n in batch:
            by_survey.setdefault(n.response.survey_id, set()).add(n.response.submission_id)
        found = {}
        for survey_id, submissions in by_survey.items():
            for doc in self.store.db.responses.find(
                    {**_survey_filter(survey_id), "submission_id": {"$in": sorted(submissions)}},
                    session=session):
                r = _from_mongo(Response, doc)
                found[(r.survey_id, r.submission_id)] = r
        return found

    def get(self, org_id, response_id, survey_id=None):
        # Given the survey, the read goes to the one shard holding it instead of all of them.
        query = {"_id": response_id, "org_id": org_id}
        if survey_id is not None:
            query.update(_survey_filter(survey_id))
        return _from_mongo(Response, self.store.db.responses.find_one(query))

    def find_by_submission(self, survey_id, submission_id):
        return _from_mongo(Response, self.store.db.responses.find_one(
            {**_survey_filter(survey_id), "submission_id": submission_id}))

    def list(self, org_id, survey_id, *, after=None, limit=100, filters=None):
        query: dict = {"org_id": org_id, **_survey_filter(survey_id)}
        filters = filters or {}
        for name in ("source", "instrument", "fingerprint"):
            if filters.get(name) is not None:
                query[name] = filters[name]
        if filters.get("complete") is not None:
            query["complete"] = bool(filters["complete"])
        created = {}
        if filters.get("created_from"):
            created["$gte"] = filters["created_from"]
        if filters.get("created_to"):
            created["$lt"] = filters["created_to"]
        if created:
            query["created_at"] = created
        for name, value in (filters.get("attributes") or {}).items():
            query[f"attributes.{name}"] = value
        return self.store.page(Response, self.store.db.responses, query, after, limit)

    def iter_survey(self, survey_id, *, instrument=None, batch_size=1000):
        """One bounded query per batch, resuming after the last id: no server cursor lives
        across batches, so a slow reader (an export streamed to an idle client), a cursor or
        session timeout, or a primary change between batches cuts nothing."""
        query = _survey_filter(survey_id)
        if instrument:
            query["instrument"] = instrument
        last = None
        while True:
            page = query if last is None else {**query, "_id": {"$gt": last}}
            docs = list(self.store.db.responses.find(page).sort("_id", ASCENDING)
                        .limit(batch_size))
            for doc in docs:
                yield _from_mongo(Response, doc)
            if len(docs) < batch_size:
                return
            last = docs[-1]["_id"]

    def count(self, survey_id):
        return self.store.db.responses.count_documents(_survey_filter(survey_id))

    def erase(self, survey_id, submission_id, counters_of):
        def work(session):
            doc = self.store.db.responses.find_one_and_delete(
                {**_survey_filter(survey_id), "submission_id": submission_id}, session=session)
            if doc is None:
                return None
            response = _from_mongo(Response, doc)
            cell = {"_id": _cell_id(survey_id, response.cell_key), "sk": shard_prefix(survey_id)}
            if response.complete and self._was_folded(doc, cell, session):
                self.store.db.aggregates.update_one(
                    cell, {"$inc": {f"counts.{_escape(k)}": -1 for k in counters_of(response)}},
                    session=session)
            return response
        return self.store.run_transaction(work)

    def _was_folded(self, doc, cell, session) -> bool:
        if not doc.get("pending"):
            return True
        fold = (doc.get("fold") or {}).get("id")
        return fold is not None and self.store.db.aggregates.count_documents(
            {**cell, "folds": fold}, session=session) > 0


class _Aggregates(_Repo, AggregateRepository):
    def for_survey(self, survey_id):
        if not self.store.supports_transactions():
            return self._read(survey_id, None)
        # A snapshot: the cells and the pending responses as of one moment, so a fold
        # committing meanwhile is seen either whole or not at all. Reads take no write locks.
        with self.store.client.start_session() as session:
            with session.start_transaction(read_concern=ReadConcern("snapshot")):
                return self._read(survey_id, session)

    def _read(self, survey_id, session):
        cells: dict[str, Counter] = {}
        in_flight = []
        for doc in self.store.db.aggregates.find(_survey_filter(survey_id), session=session):
            cells[doc["cell_key"]] = Counter(
                {_unescape(k): v for k, v in doc.get("counts", {}).items()})
            if doc.get("folds"):
                in_flight.append({"cell_key": doc["cell_key"], "fold.id": {"$in": doc["folds"]}})
        match = {**_survey_filter(survey_id), "pending": True}
        if in_flight:  # already in their cell's counts: a fold stopped before clearing them
            match["$nor"] = in_flight
        pending = self.store.db.responses.aggregate([
            {"$match": match},
            {"$unwind": "$counters"},
            {"$group": {"_id": {"cell": "$cell_key", "counter": "$counters"},
                        "n": {"$sum": 1}}},
        ], session=session)
        for row in pending:
            cells.setdefault(row["_id"]["cell"], Counter())[row["_id"]["counter"]] += row["n"]
        # Erasures can leave counters at zero: they mean nothing, so they are not shown.
        shown = {cell: {k: v for k, v in counts.items() if v > 0} for cell, counts in cells.items()}
        return {cell: counts for cell, counts in shown.items() if counts}

    def fold_pending(self, survey_id=None, limit=FOLD_BATCH, now=None) -> int:
        """Fold pending responses into the cell counters (all surveys', or one's); returns how
        many responses were folded. Safe to run anywhere, any number of times, concurrently."""
        now = now or datetime.now(timezone.utc)
        if survey_id is None:
            surveys = self.store.db.responses.distinct("survey_id", {"pending": True})
        else:
            surveys = [survey_id]
        folded = 0
        for survey in surveys:
            while True:
                n = self.store.run_transaction(
                    lambda session, s=survey: self._fold(s, limit, now, session))
                folded += n
                if n < limit:
                    break
        return folded

    def _fold(self, survey_id, limit, now, session) -> int:
        fold_id = self._claim(survey_id, limit, now, session)
        if fold_id is None:
            return 0
        db = self.store.db
        docs = list(db.responses.find({**_survey_filter(survey_id), "fold.id": fold_id},
                                      {"cell_key": 1, "counters": 1}, session=session))
        sums: dict[str, Counter] = {}
        for doc in docs:
            sums.setdefault(doc["cell_key"], Counter()).update(doc.get("counters", ()))
        for cell, counts in sums.items():
            self._apply(survey_id, cell, counts, fold_id, session)
        self._clear(survey_id, fold_id, session)
        self._release(survey_id, list(sums), fold_id, session)
        return len(docs)

    def _claim(self, survey_id, limit, now, session) -> str | None:
        """Step 1: a fold whose folder died (lease run out), or a new one over pending ones."""
        db = self.store.db
        stale = db.responses.find_one(
            {**_survey_filter(survey_id), "pending": True,
             "fold.at": {"$lt": to_timestamp(now - FOLD_LEASE)}}, {"fold": 1}, session=session)
        if stale is not None:
            return stale["fold"]["id"]
        waiting = [d["_id"] for d in db.responses.find(
            {**_survey_filter(survey_id), "pending": True, "fold": None}, {"_id": 1},
            session=session).sort("_id", ASCENDING).limit(limit)]
        if not waiting:
            return None
        fold_id = ids.new_id()
        db.responses.update_many(
            {**_survey_filter(survey_id), "_id": {"$in": waiting}, "pending": True, "fold": None},
            {"$set": {"fold": {"id": fold_id, "at": to_timestamp(now)}}}, session=session)
        return fold_id

    def _apply(self, survey_id, cell, counts, fold_id, session) -> None:
        """Step 2 for one cell: the sums and the fold id in one update, guarded by the fold id,
        so that a replay (after a crash, or by a folder that took over) adds nothing."""
        cells = self.store.db.aggregates
        key = {"_id": _cell_id(survey_id, cell), "sk": shard_prefix(survey_id)}
        cells.update_one(key, {"$setOnInsert": {"survey_id": survey_id, "cell_key": cell,
                                                "counts": {}, "folds": []}},
                         upsert=True, session=session)
        cells.update_one({**key, "folds": {"$ne": fold_id}},
                         {"$inc": {f"counts.{_escape(k)}": v for k, v in counts.items()},
                          "$push": {"folds": fold_id}}, session=session)

    def _clear(self, survey_id, fold_id, session) -> None:
        """Step 3: the fold's responses are counted now, no longer pending."""
        self.store.db.responses.update_many(
            {**_survey_filter(survey_id), "fold.id": fold_id},
            {"$unset": {"pending": "", "fold": "", "counters": ""}}, session=session)

    def _release(self, survey_id, cells, fold_id, session) -> None:
        """Step 4: no response names the fold any more; its id leaves the cells. (Skipped by a
        crash, it stays: harmless, as no response can name it again.)"""
        self.store.db.aggregates.update_many(
            {"sk": shard_prefix(survey_id), "_id": {"$in": [_cell_id(survey_id, c) for c in cells]}},
            {"$pull": {"folds": fold_id}}, session=session)

    def replace_survey(self, survey_id, cells):
        def work(session):
            db = self.store.db
            db.aggregates.delete_many(_survey_filter(survey_id), session=session)
            docs = [{"_id": _cell_id(survey_id, cell), "sk": shard_prefix(survey_id),
                     "survey_id": survey_id, "cell_key": cell, "folds": [],
                     "counts": {_escape(k): v for k, v in counters.items()}}
                    for cell, counters in cells.items()]
            if docs:
                db.aggregates.insert_many(docs, session=session)
            # The recount included every stored response: none is pending any more.
            db.responses.update_many({**_survey_filter(survey_id), "pending": True},
                                     {"$unset": {"pending": "", "fold": "", "counters": ""}},
                                     session=session)
        self.store.run_transaction(work)


class _Briefs(_Repo, BriefRepository):
    def add(self, brief, pdf):
        def work(session):
            self.store.db.brief_files.insert_one({"_id": brief.id, "org_id": brief.org_id,
                                                  "pdf": pdf}, session=session)
            self.store.db.briefs.insert_one(_to_mongo(brief), session=session)
        self.store.run_transaction(work)
        return brief

    def get(self, org_id, brief_id):
        return _from_mongo(Brief, self.store.db.briefs.find_one({"_id": brief_id,
                                                                "org_id": org_id}))

    def get_pdf(self, org_id, brief_id):
        doc = self.store.db.brief_files.find_one({"_id": brief_id, "org_id": org_id})
        return bytes(doc["pdf"]) if doc else None

    def list(self, org_id, survey_id):
        cursor = self.store.db.briefs.find({"org_id": org_id, "survey_id": survey_id}).sort(
            "_id", ASCENDING)
        return [_from_mongo(Brief, d) for d in cursor]

    def revoke_links(self, org_id, brief_id):
        return _from_mongo(Brief, self.store.db.briefs.find_one_and_update(
            {"_id": brief_id, "org_id": org_id}, {"$inc": {"share_generation": 1}},
            return_document=pymongo.ReturnDocument.AFTER))

    def delete(self, org_id, brief_id):
        deleted = []

        def work(session):
            query = {"_id": brief_id, "org_id": org_id}
            deleted.append(self.store.db.briefs.delete_one(query, session=session).deleted_count)
            self.store.db.brief_files.delete_one(query, session=session)
        self.store.run_transaction(work)
        return deleted[-1] == 1


class _Webhooks(_Repo, WebhookRepository):
    def add(self, webhook):
        self.store.db.webhooks.insert_one(_to_mongo(webhook))
        return webhook

    def get(self, org_id, webhook_id):
        return _from_mongo(Webhook, self.store.db.webhooks.find_one({"_id": webhook_id,
                                                                    "org_id": org_id}))

    def list(self, org_id):
        cursor = self.store.db.webhooks.find({"org_id": org_id}).sort("_id", ASCENDING)
        return [_from_mongo(Webhook, d) for d in cursor]

    def update(self, org_id, webhook_id, changes):
        doc = self.store.db.webhooks.find_one_and_update(
            {"_id": webhook_id, "org_id": org_id}, {"$set": changes},
            return_document=pymongo.ReturnDocument.AFTER)
        return _from_mongo(Webhook, doc)

    def delete(self, org_id, webhook_id):
        return self.store.db.webhooks.delete_one({"_id": webhook_id,
                                                 "org_id": org_id}).deleted_count == 1


class _Deliveries(_Repo, DeliveryRepository):
    def add_many(self, deliveries):
        if deliveries:
            self.store.db.deliveries.insert_many([_to_mongo(d) for d in deliveries])

    def claim_due(self, now, lease_until, limit=50, *, per_webhook=None, skip_webhooks=()):
        due = {"status": "pending", "next_attempt_at": {"$lte": now},
               "webhook_id": {"$nin": sorted(skip_webhooks)}}
        lease = new_token(12)
        per_webhook = per_webhook or limit
        taken: dict[str, int] = {}
        claimed = []
        # Per webhook, so that one webhook's long backlog cannot fill the whole claim.
        fields = {"_id": 1, "webhook_id": 1, "next_attempt_at": 1}
        candidates = sorted(
            (doc for webhook_id in self.store.db.deliveries.distinct("webhook_id", due)
             for doc in self.store.db.deliveries.find({**due, "webhook_id": webhook_id}, fields)
             .sort([("next_attempt_at", ASCENDING), ("_id", ASCENDING)]).limit(per_webhook)),
            key=lambda doc: (doc["next_attempt_at"], doc["_id"]))
        for candidate in candidates:
            if len(claimed) >= limit or taken.get(candidate["webhook_id"], 0) >= per_webhook:
                continue
            # One document at a time, atomically: a concurrent poller cannot claim it too.
            doc = self.store.db.deliveries.find_one_and_update(
                {**due, "_id": candidate["_id"]},
                {"$set": {"next_attempt_at": lease_until, "lease": lease}},
                return_document=pymongo.ReturnDocument.AFTER)
            if doc is None:
                continue
            try:
                claimed.append(_from_mongo(Delivery, doc))
            except (TypeError, ValueError):  # unreadable: it fails alone
                self.store.db.deliveries.update_one({"_id": doc["_id"]},
                                                    {"$set": {"status": "failed"}})
                continue
            taken[candidate["webhook_id"]] = taken.get(candidate["webhook_id"], 0) + 1
        return claimed

    def begin_attempt(self, delivery_id, lease, held_until):
        doc = self.store.db.deliveries.find_one_and_update(
            {"_id": delivery_id, "status": "pending", "lease": lease,
             "next_attempt_at": {"$gte": held_until}},
            {"$inc": {"attempts": 1}, "$set": {"updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER)
        return _from_mongo(Delivery, doc)

    def update(self, delivery_id, changes, lease=None):
        query = {"_id": delivery_id}
        if lease is not None:
            query["lease"] = lease
            changes = {**changes, "lease": None}
        doc = self.store.db.deliveries.find_one_and_update(
            query, {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER)
        return _from_mongo(Delivery, doc)

    def list(self, org_id, webhook_id, limit=50):
        cursor = self.store.db.deliveries.find({"org_id": org_id, "webhook_id": webhook_id}
                                               ).sort("_id", DESCENDING).limit(limit)
        return [_from_mongo(Delivery, d) for d in cursor]


class _Audit(_Repo, AuditRepository):
    def add(self, event):
        self.store.db.audit.insert_one(_to_mongo(event))
        return event

    def list(self, org_id, limit=100):
        cursor = self.store.db.audit.find({"org_id": org_id}).sort("_id", DESCENDING).limit(limit)
        return [_from_mongo(AuditEvent, d) for d in cursor]
