"""The SQLite repositories of plain records: organizations, keys, instruments, surveys,
invitations, briefs, webhooks and their deliveries, the audit log."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import TYPE_CHECKING

from ...ids import new_token
from ..codec import attributes_key, dumps, from_doc, loads
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
from .schema import log

if TYPE_CHECKING:
    from .store import SqliteStore


class RepositoryOnStore:
    """A repository of this backend: it works through the store's connection and helpers."""

    def __init__(self, store: SqliteStore):
        self.store = store


class _Organizations(RepositoryOnStore, OrganizationRepository):
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


class _ApiKeys(RepositoryOnStore, ApiKeyRepository):
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


class _Instruments(RepositoryOnStore, InstrumentRepository):
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

    def replace_builtin_definition(self, instrument_id, version, definition):
        # By the whole key: store.patch updates by id, which a tenant's instrument may share.
        key = ("", instrument_id, version)
        with self.store.write() as c:
            row = c.execute("SELECT doc FROM instruments WHERE org_id = ? AND id = ? AND "
                            "version = ?", key).fetchone()
            if row is None:
                return False
            c.execute("UPDATE instruments SET doc = ? WHERE org_id = ? AND id = ? AND "
                      "version = ?", (dumps({**loads(row[0]), "definition": definition}), *key))
        return True


class _Surveys(RepositoryOnStore, SurveyRepository):
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


class _Invitations(RepositoryOnStore, InvitationRepository):
    def add_many(self, invitations):
        with self.store.write() as c:
            c.executemany(
                "INSERT INTO invitations (id, org_id, survey_id, token_hash, status, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(i.id, i.org_id, i.survey_id, i.token_hash, i.status, dumps(i))
                 for i in invitations],
            )
            counts = Counter((i.survey_id, attributes_key(i.attributes), i.status)
                             for i in invitations)
            add_to_tally(c, [(*key, n) for key, n in counts.items()])

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
        with self.store.write() as c:
            row = c.execute("SELECT doc FROM invitations WHERE org_id = ? AND id = ?",
                            (org_id, invitation_id)).fetchone()
            if row is None:
                return None
            before = loads(row[0])
            doc = {**before, **changes, "updated_at": utc_now()}
            c.execute("UPDATE invitations SET doc = ?, status = ? WHERE id = ?",
                      (dumps(doc), doc["status"], invitation_id))
            was = (attributes_key(before.get("attributes")), before["status"])
            now = (attributes_key(doc.get("attributes")), doc["status"])
            if was != now:
                add_to_tally(c, [(doc["survey_id"], *was, -1), (doc["survey_id"], *now, 1)])
        return from_doc(Invitation, doc)

    def tally(self, survey_id):
        rows = self.store.conn().execute(
            "SELECT attributes, status, n FROM invitation_tally WHERE survey_id = ? AND n > 0 "
            "ORDER BY attributes, status", (survey_id,))
        return [(loads(attributes), status, n) for attributes, status, n in rows]

    def replace_tally(self, survey_id, tally):
        with self.store.write() as c:
            c.execute("DELETE FROM invitation_tally WHERE survey_id = ?", (survey_id,))
            counts = Counter()
            for attributes, status, n in tally:
                counts[(survey_id, attributes_key(attributes), status)] += n
            add_to_tally(c, [(*key, n) for key, n in counts.items()])


def add_to_tally(c: sqlite3.Connection, changes) -> None:
    """changes: (survey_id, attributes key, status, +n or -n); rows that reach 0 go."""
    c.executemany(
        "INSERT INTO invitation_tally (survey_id, attributes, status, n) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (survey_id, attributes, status) DO UPDATE SET n = n + excluded.n",
        changes)
    c.executemany("DELETE FROM invitation_tally WHERE survey_id = ? AND attributes = ? "
                  "AND status = ? AND n = 0", [change[:3] for change in changes])


class _Briefs(RepositoryOnStore, BriefRepository):
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


class _Webhooks(RepositoryOnStore, WebhookRepository):
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


class _Deliveries(RepositoryOnStore, DeliveryRepository):
    def add_many(self, deliveries):
        with self.store.write() as c:
            insert_deliveries(c, deliveries)

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

    def prune_finished(self, before, limit=1000):
        with self.store.write() as c:  # bounded: one short write, on the deliveries_due index
            return c.execute(
                "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE status "
                "IN ('delivered', 'failed') AND next_attempt_at < ? LIMIT ?)",
                (before, limit)).rowcount


def insert_deliveries(c: sqlite3.Connection, deliveries) -> None:
    if not deliveries:
        return
    c.executemany(
        "INSERT INTO deliveries (id, org_id, webhook_id, status, next_attempt_at, doc) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(d.id, d.org_id, d.webhook_id, d.status, d.next_attempt_at, dumps(d))
         for d in deliveries])


class _Audit(RepositoryOnStore, AuditRepository):
    def add(self, event):
        self.store.insert("audit", event, id=event.id, org_id=event.org_id)
        return event

    def list(self, org_id, limit=100):
        return self.store.many(AuditEvent, "SELECT doc FROM audit WHERE org_id = ? "
                                           "ORDER BY id DESC LIMIT ?", (org_id, limit))
