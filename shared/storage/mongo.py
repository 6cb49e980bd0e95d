"""The MongoDB backend, through pymongo.

Writes use write concern "majority" so an acknowledged response is on most replica-set members.
On a replica set (what docker-compose runs) a response and its counter increments are written in
one multi-document transaction, retried by pymongo on transient errors; the unique index on
(survey_id, submission_id) makes a concurrent retry find the first write instead of duplicating
it. Against a server without transactions (a standalone mongod, or mongomock in the tests) the
same operations run without the transaction: the response is inserted first and counted only if
that insert won, so a crash between the two can leave counters short, which `rebuild` repairs.

The client is made lazily in the process that uses it (never before gunicorn forks).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlparse

import pymongo
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

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
    Store,
    SurveyRepository,
    WebhookRepository,
    decide,
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


class MongoStore(Store):
    def __init__(self, url: str, client_factory=None):
        self.url = url
        self._client_factory = client_factory or (
            lambda: pymongo.MongoClient(url, w="majority", serverSelectionTimeoutMS=5000,
                                        uuidRepresentation="standard", tz_aware=True))
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

    def ensure_indexes(self) -> None:
        db = self.db
        db.organizations.create_index([("name", ASCENDING)], unique=True)
        db.api_keys.create_index([("key_hash", ASCENDING)], unique=True)
        db.api_keys.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
        db.instruments.create_index(
            [("org_id", ASCENDING), ("id", ASCENDING), ("version", ASCENDING)], unique=True)
        db.surveys.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
        db.invitations.create_index([("token_hash", ASCENDING)], unique=True)
        db.invitations.create_index([("survey_id", ASCENDING), ("_id", ASCENDING)])
        db.responses.create_index([("survey_id", ASCENDING), ("submission_id", ASCENDING)],
                                  unique=True)
        db.responses.create_index([("survey_id", ASCENDING), ("_id", ASCENDING)])
        db.aggregates.create_index([("survey_id", ASCENDING)])
        db.briefs.create_index([("org_id", ASCENDING), ("survey_id", ASCENDING),
                                ("_id", ASCENDING)])
        db.webhooks.create_index([("org_id", ASCENDING), ("_id", ASCENDING)])
        db.audit.create_index([("org_id", ASCENDING), ("_id", DESCENDING)])
        db.deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        db.deliveries.create_index([("webhook_id", ASCENDING), ("_id", ASCENDING)])
        mongo_console.ensure_indexes(db)

    def supports_transactions(self) -> bool:
        if self._transactions is None:
            try:
                hello = self.client.admin.command("hello")
                self._transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
            except Exception:  # mongomock and old servers: no transactions
                self._transactions = False
        return self._transactions

    @contextmanager
    def transaction(self) -> Iterator[object]:
        """Yields a session inside a transaction where the server has them, else None."""
        if not self.supports_transactions():
            yield None
            return
        with self.client.start_session() as session, session.start_transaction():
            yield session

    def run_transaction(self, work):
        """work(session) with pymongo's retries on transient errors where transactions exist."""
        if not self.supports_transactions():
            return work(None)
        with self.client.start_session() as session:
            return session.with_transaction(work)

    def ping(self) -> None:
        self.client.admin.command("ping")

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
    def add(self, new):
        return self.add_many([new])[0]

    def add_many(self, batch: list[NewResponse]):
        return self.store.run_transaction(lambda session: self._add_many(batch, session))

    def _add_many(self, batch, session):
        db = self.store.db
        plan = plan_batch(batch, self._existing(batch, session))
        results, inserts, updates, final = plan.results, plan.inserts, plan.updates, plan.final
        written: list[NewResponse] = []
        if inserts:
            positions = list(inserts.values())
            lost: set[int] = set()
            try:
                db.responses.insert_many([_to_mongo(final[p].response) for p in positions],
                                         ordered=False, session=session)
            except BulkWriteError as exc:
                # Without transactions a concurrent writer can win the race for a submission id
                # between our lookup and our insert: report what it stored instead.
                for error in exc.details.get("writeErrors", []):
                    if error.get("code") != 11000:
                        raise
                    lost.add(positions[error["index"]])
            for p in positions:
                if p in lost:
                    self._lost_race(results, batch, p, final, session)
                else:
                    written.append(final[p])
        for key, p in updates.items():
            doc = _to_mongo(final[p].response)
            done = db.responses.replace_one({"_id": doc["_id"], "complete": False}, doc,
                                            session=session)
            if done.matched_count:
                written.append(final[p])
            else:  # completed by someone else meanwhile
                self._lost_race(results, batch, p, final, session)
        self._count([n for n in written if n.response.complete], session)
        return results

    def _lost_race(self, results, batch, position, final, session) -> None:
        r = batch[position].response
        winner = _from_mongo(Response, self.store.db.responses.find_one(
            {"survey_id": r.survey_id, "submission_id": r.submission_id}, session=session))
        outcome = decide(winner, r)
        # The winner is stored; whatever we would have done now counts as a repeat of it.
        index = _result_index(results, final[position].response)
        results[index] = (winner, DUPLICATE if outcome == DUPLICATE else CONFLICT)

    def _existing(self, batch, session) -> dict[tuple[str, str], Response]:
        by_survey: dict[str, set[str]] = {}
        for n in batch:
            by_survey.setdefault(n.response.survey_id, set()).add(n.response.submission_id)
        found = {}
        for survey_id, ids in by_survey.items():
            for doc in self.store.db.responses.find(
                    {"survey_id": survey_id, "submission_id": {"$in": sorted(ids)}},
                    session=session):
                r = _from_mongo(Response, doc)
                found[(r.survey_id, r.submission_id)] = r
        return found

    def _count(self, inserted: list[NewResponse], session) -> None:
        by_survey: dict[str, list[NewResponse]] = {}
        for n in inserted:
            by_survey.setdefault(n.response.survey_id, []).append(n)
        ops = []
        for survey_id, news in by_survey.items():
            for cell, counters in sum_counters(news).items():
                ops.append(UpdateOne(
                    {"_id": f"{survey_id}|{cell}"},
                    {"$inc": {f"counts.{_escape(k)}": v for k, v in counters.items()},
                     "$setOnInsert": {"survey_id": survey_id, "cell_key": cell}},
                    upsert=True))
        if ops:
            self.store.db.aggregates.bulk_write(ops, ordered=False, session=session)

    def get(self, org_id, response_id):
        return _from_mongo(Response, self.store.db.responses.find_one(
            {"_id": response_id, "org_id": org_id}))

    def find_by_submission(self, survey_id, submission_id):
        return _from_mongo(Response, self.store.db.responses.find_one(
            {"survey_id": survey_id, "submission_id": submission_id}))

    def list(self, org_id, survey_id, *, after=None, limit=100, filters=None):
        query: dict = {"org_id": org_id, "survey_id": survey_id}
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
        query = {"survey_id": survey_id}
        if instrument:
            query["instrument"] = instrument
        cursor = self.store.db.responses.find(query).sort("_id", ASCENDING).batch_size(batch_size)
        for doc in cursor:
            yield _from_mongo(Response, doc)

    def count(self, survey_id):
        return self.store.db.responses.count_documents({"survey_id": survey_id})

    def erase(self, survey_id, submission_id, counters_of):
        def work(session):
            doc = self.store.db.responses.find_one_and_delete(
                {"survey_id": survey_id, "submission_id": submission_id}, session=session)
            if doc is None:
                return None
            response = _from_mongo(Response, doc)
            if response.complete:
                self.store.db.aggregates.update_one(
                    {"_id": f"{survey_id}|{response.cell_key}"},
                    {"$inc": {f"counts.{_escape(k)}": -1
                              for k in counters_of(response)}}, session=session)
            return response
        return self.store.run_transaction(work)


class _Aggregates(_Repo, AggregateRepository):
    def for_survey(self, survey_id):
        cells = {}
        for doc in self.store.db.aggregates.find({"survey_id": survey_id}):
            # Erasures can leave counters at zero: they mean nothing, so they are not shown.
            counts = {_unescape(k): v for k, v in doc.get("counts", {}).items() if v > 0}
            if counts:
                cells[doc["cell_key"]] = counts
        return cells

    def replace_survey(self, survey_id, cells):
        def work(session):
            self.store.db.aggregates.delete_many({"survey_id": survey_id}, session=session)
            docs = [{"_id": f"{survey_id}|{cell}", "survey_id": survey_id, "cell_key": cell,
                     "counts": {_escape(k): v for k, v in counters.items()}}
                    for cell, counters in cells.items()]
            if docs:
                self.store.db.aggregates.insert_many(docs, session=session)
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

    def claim_due(self, now, lease_until, limit=50):
        claimed = []
        for _ in range(limit):
            # One document at a time, atomically: a concurrent poller cannot claim it too.
            doc = self.store.db.deliveries.find_one_and_update(
                {"status": "pending", "next_attempt_at": {"$lte": now}},
                {"$set": {"next_attempt_at": lease_until}},
                sort=[("next_attempt_at", ASCENDING)],
                return_document=pymongo.ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(_from_mongo(Delivery, doc))
        return claimed

    def update(self, delivery_id, changes):
        doc = self.store.db.deliveries.find_one_and_update(
            {"_id": delivery_id}, {"$set": {**changes, "updated_at": utc_now()}},
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
