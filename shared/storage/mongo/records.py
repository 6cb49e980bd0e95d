"""The MongoDB repositories of plain records: organizations, keys, instruments, surveys,
invitations, briefs, webhooks and their deliveries, the audit log."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pymongo
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from ...ids import new_token
from ..codec import attributes_key, from_doc, loads, to_doc
from ..interface import (
    AlreadyExists,
    AuditRepository,
    ApiKeyRepository,
    BriefRepository,
    DeliveryRepository,
    InstrumentRepository,
    InvitationRepository,
    OrganizationRepository,
    SurveyRepository,
    WebhookRepository,
)
from ..models import (
    ApiKey,
    AuditEvent,
    Brief,
    Delivery,
    Instrument,
    Invitation,
    Organization,
    Survey,
    Webhook,
    utc_now,
)
from .schema import from_mongo, to_mongo

if TYPE_CHECKING:
    from .store import MongoStore


class RepositoryOnStore:
    """A repository of this backend: it works through the store's connection and helpers."""

    def __init__(self, store: MongoStore):
        self.store = store


class _Organizations(RepositoryOnStore, OrganizationRepository):
    def add(self, org):
        try:
            self.store.db.organizations.insert_one(to_mongo(org))
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"organization {org.name!r} exists") from exc
        return org

    def get(self, org_id):
        return from_mongo(Organization, self.store.db.organizations.find_one({"_id": org_id}))

    def find_by_name(self, name):
        return from_mongo(Organization, self.store.db.organizations.find_one({"name": name}))


class _ApiKeys(RepositoryOnStore, ApiKeyRepository):
    def add(self, key):
        self.store.db.api_keys.insert_one(to_mongo(key))
        return key

    def find_by_hash(self, key_hash):
        return from_mongo(ApiKey, self.store.db.api_keys.find_one({"key_hash": key_hash}))

    def list(self, org_id):
        cursor = self.store.db.api_keys.find({"org_id": org_id}).sort("_id", ASCENDING)
        return [from_mongo(ApiKey, d) for d in cursor]

    def revoke(self, org_id, key_id, when):
        self.store.db.api_keys.update_one({"_id": key_id, "org_id": org_id, "revoked_at": None},
                                          {"$set": {"revoked_at": when}})
        return from_mongo(ApiKey, self.store.db.api_keys.find_one({"_id": key_id,
                                                                    "org_id": org_id}))


class _Instruments(RepositoryOnStore, InstrumentRepository):
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

    def replace_builtin_definition(self, instrument_id, version, definition):
        result = self.store.db.instruments.update_one(
            {"org_id": None, "id": instrument_id, "version": version},
            {"$set": {"definition": definition}})
        return result.matched_count == 1


class _Surveys(RepositoryOnStore, SurveyRepository):
    def add(self, survey):
        self.store.db.surveys.insert_one(to_mongo(survey))
        return survey

    def get(self, org_id, survey_id):
        return from_mongo(Survey, self.store.db.surveys.find_one({"_id": survey_id,
                                                                  "org_id": org_id}))

    def get_any(self, survey_id):
        return from_mongo(Survey, self.store.db.surveys.find_one({"_id": survey_id}))

    def list(self, org_id, after=None, limit=50):
        return self.store.page(Survey, self.store.db.surveys, {"org_id": org_id}, after, limit)

    def update(self, org_id, survey_id, changes):
        doc = self.store.db.surveys.find_one_and_update(
            {"_id": survey_id, "org_id": org_id},
            {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER,
        )
        return from_mongo(Survey, doc)


class _Invitations(RepositoryOnStore, InvitationRepository):
    def add_many(self, invitations):
        if not invitations:
            return
        counts = Counter((i.survey_id, attributes_key(i.attributes), i.status)
                         for i in invitations)

        def work(session):
            self.store.db.invitations.insert_many([to_mongo(i) for i in invitations],
                                                  session=session)
            self._add_to_tally([(*key, n) for key, n in counts.items()], session)
        self.store.run_transaction(work)

    def get(self, org_id, invitation_id):
        return from_mongo(Invitation, self.store.db.invitations.find_one(
            {"_id": invitation_id, "org_id": org_id}))

    def find_by_token_hash(self, token_hash):
        return from_mongo(Invitation, self.store.db.invitations.find_one(
            {"token_hash": token_hash}))

    def list(self, org_id, survey_id, after=None, limit=50, status=None):
        query = {"org_id": org_id, "survey_id": survey_id}
        if status:
            query["status"] = status
        return self.store.page(Invitation, self.store.db.invitations, query, after, limit)

    def update(self, org_id, invitation_id, changes):
        changes = {**changes, "updated_at": utc_now()}

        def work(session):
            before = self.store.db.invitations.find_one_and_update(
                {"_id": invitation_id, "org_id": org_id}, {"$set": changes},
                return_document=pymongo.ReturnDocument.BEFORE, session=session)
            if before is None:
                return None
            after = {**before, **changes}
            was = (attributes_key(before.get("attributes")), before["status"])
            now = (attributes_key(after.get("attributes")), after["status"])
            if was != now:
                self._add_to_tally([(after["survey_id"], *was, -1),
                                    (after["survey_id"], *now, 1)], session)
            return after
        return from_mongo(Invitation, self.store.run_transaction(work))

    def tally(self, survey_id):
        rows = self.store.db.invitation_tally.find(
            {"survey_id": survey_id, "n": {"$gt": 0}}).sort(
            [("attributes", ASCENDING), ("status", ASCENDING)])
        return [(loads(row["attributes"]), row["status"], row["n"]) for row in rows]

    def replace_tally(self, survey_id, tally):
        counts = Counter()
        for attributes, status, n in tally:
            counts[(survey_id, attributes_key(attributes), status)] += n

        def work(session):
            self.store.db.invitation_tally.delete_many({"survey_id": survey_id},
                                                       session=session)
            self._add_to_tally([(*key, n) for key, n in counts.items()], session)
        self.store.run_transaction(work)

    def _add_to_tally(self, changes, session) -> None:
        """changes: (survey_id, attributes key, status, +n or -n); rows that reach 0 go."""
        if not changes:
            return
        tally = self.store.db.invitation_tally
        tally.bulk_write([
            pymongo.UpdateOne({"survey_id": survey_id, "attributes": attributes,
                               "status": status}, {"$inc": {"n": n}}, upsert=True)
            for survey_id, attributes, status, n in changes], ordered=True, session=session)
        tally.delete_many({"survey_id": {"$in": sorted({c[0] for c in changes})}, "n": 0},
                          session=session)


class _Briefs(RepositoryOnStore, BriefRepository):
    def add(self, brief, pdf):
        def work(session):
            self.store.db.brief_files.insert_one({"_id": brief.id, "org_id": brief.org_id,
                                                  "pdf": pdf}, session=session)
            self.store.db.briefs.insert_one(to_mongo(brief), session=session)
        self.store.run_transaction(work)
        return brief

    def get(self, org_id, brief_id):
        return from_mongo(Brief, self.store.db.briefs.find_one({"_id": brief_id,
                                                                "org_id": org_id}))

    def get_pdf(self, org_id, brief_id):
        doc = self.store.db.brief_files.find_one({"_id": brief_id, "org_id": org_id})
        return bytes(doc["pdf"]) if doc else None

    def list(self, org_id, survey_id):
        cursor = self.store.db.briefs.find({"org_id": org_id, "survey_id": survey_id}).sort(
            "_id", ASCENDING)
        return [from_mongo(Brief, d) for d in cursor]

    def revoke_links(self, org_id, brief_id):
        return from_mongo(Brief, self.store.db.briefs.find_one_and_update(
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


class _Webhooks(RepositoryOnStore, WebhookRepository):
    def add(self, webhook):
        self.store.db.webhooks.insert_one(to_mongo(webhook))
        return webhook

    def get(self, org_id, webhook_id):
        return from_mongo(Webhook, self.store.db.webhooks.find_one({"_id": webhook_id,
                                                                    "org_id": org_id}))

    def list(self, org_id):
        cursor = self.store.db.webhooks.find({"org_id": org_id}).sort("_id", ASCENDING)
        return [from_mongo(Webhook, d) for d in cursor]

    def update(self, org_id, webhook_id, changes):
        doc = self.store.db.webhooks.find_one_and_update(
            {"_id": webhook_id, "org_id": org_id}, {"$set": changes},
            return_document=pymongo.ReturnDocument.AFTER)
        return from_mongo(Webhook, doc)

    def delete(self, org_id, webhook_id):
        return self.store.db.webhooks.delete_one({"_id": webhook_id,
                                                 "org_id": org_id}).deleted_count == 1


class _Deliveries(RepositoryOnStore, DeliveryRepository):
    def add_many(self, deliveries):
        if deliveries:
            self.store.db.deliveries.insert_many([to_mongo(d) for d in deliveries])

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
                claimed.append(from_mongo(Delivery, doc))
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
        return from_mongo(Delivery, doc)

    def update(self, delivery_id, changes, lease=None):
        query = {"_id": delivery_id}
        if lease is not None:
            query["lease"] = lease
            changes = {**changes, "lease": None}
        doc = self.store.db.deliveries.find_one_and_update(
            query, {"$set": {**changes, "updated_at": utc_now()}},
            return_document=pymongo.ReturnDocument.AFTER)
        return from_mongo(Delivery, doc)

    def list(self, org_id, webhook_id, limit=50):
        cursor = self.store.db.deliveries.find({"org_id": org_id, "webhook_id": webhook_id}
                                               ).sort("_id", DESCENDING).limit(limit)
        return [from_mongo(Delivery, d) for d in cursor]

    def prune_finished(self, before, limit=1000):
        finished = {"status": {"$in": ["delivered", "failed"]}, "next_attempt_at": {"$lt": before}}
        ids = [d["_id"] for d in self.store.db.deliveries.find(finished, {"_id": 1}).limit(limit)]
        if not ids:
            return 0
        # The filter again: one claimed meanwhile is pending, and stays.
        return self.store.db.deliveries.delete_many({**finished, "_id": {"$in": ids}}
                                                    ).deleted_count


class _Audit(RepositoryOnStore, AuditRepository):
    def add(self, event):
        self.store.db.audit.insert_one(to_mongo(event))
        return event

    def list(self, org_id, limit=100):
        cursor = self.store.db.audit.find({"org_id": org_id}).sort("_id", DESCENDING).limit(limit)
        return [from_mongo(AuditEvent, d) for d in cursor]
