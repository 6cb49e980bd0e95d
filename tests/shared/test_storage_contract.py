"""One contract, every backend: SQLite for real, MongoDB through mongomock-ng, and a real MongoDB
server when MONGODB_URI is set."""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import uuid
from collections import Counter
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import pytest

from shared import ids
from shared.storage import (
    CONFLICT, CREATED, DUPLICATE, AlreadyExists, ApiKey, Brief, Instrument, Invitation,
    NewResponse, Organization, Response, Survey, open_store, utc_now,
)

MONGODB_URI = os.environ.get("MONGODB_URI")


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database; its options (replicaSet,
    directConnection, authSource, ...) kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(params=[
    "sqlite",
    "mongomock",
    pytest.param("mongodb", marks=pytest.mark.skipif(
        not MONGODB_URI, reason="MONGODB_URI is not set: no MongoDB server to test against")),
])
def backend(request, tmp_path):
    return request.param


@pytest.fixture
def store(backend, tmp_path):
    if backend == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/contract.db")
    elif backend == "mongomock":
        s = open_store(f"mongomock://localhost/contract_{uuid.uuid4().hex[:8]}")
    else:
        s = open_store(with_database(MONGODB_URI, f"contract_{uuid.uuid4().hex[:8]}"))
    s.initialize()  # what init-db does; services only check it was done
    yield s
    if backend == "mongodb":
        s.client.drop_database(s.db_name)
    s.close()


def make_org(store, name="Acme") -> Organization:
    return store.organizations.add(Organization(id=ids.new_id(), name=name, created_at=utc_now()))


def make_survey(store, org_id, name="Q4 buying survey") -> Survey:
    return store.surveys.add(Survey(
        id=ids.new_id(), org_id=org_id, name=name, status="open",
        customer_instrument={"id": "how-you-buy", "version": 1},
        vendor_instrument={"id": "how-we-sell", "version": 1},
        segments={"tenure": ["new", "long_standing"]},
    ))


def make_response(org_id, survey_id, submission_id, answers, *, cell="tenure=new",
                  attributes=None, source="api", complete=True, created_at=None) -> NewResponse:
    content_hash = hashlib.sha256(repr(sorted(answers.items())).encode()).hexdigest()
    response = Response(
        id=ids.new_id(), org_id=org_id, survey_id=survey_id, instrument="customer",
        submission_id=submission_id, answers=answers,
        attributes=attributes or {"tenure": cell.split("=")[1]}, cell_key=cell,
        content_hash=content_hash, source=source, complete=complete,
        **({"created_at": created_at} if created_at else {}),
    )
    counters = ("n", *[f"{q}={v}" for q, v in answers.items()])
    return NewResponse(response, counters)


# -- organizations and keys -----------------------------------------------------------------

def test_organizations_round_trip_and_unique_names(store):
    org = make_org(store, "Acme")
    assert store.organizations.get(org.id) == org
    assert store.organizations.find_by_name("Acme") == org
    assert store.organizations.get("nope") is None
    with pytest.raises(AlreadyExists):
        make_org(store, "Acme")


def test_api_keys_found_by_hash_listed_per_org_and_revoked_once(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    key = ApiKey(id=ids.new_id(), org_id=a.id, name="k", scopes=("ingest", "read"),
                 key_hash=ids.hash_secret("secret-a"), prefix="bk_secret", created_at=utc_now())
    store.api_keys.add(key)
    found = store.api_keys.find_by_hash(ids.hash_secret("secret-a"))
    assert found == key and found.scopes == ("ingest", "read") and found.active
    assert store.api_keys.list(a.id) == [key]
    assert store.api_keys.list(b.id) == []
    # Another organization cannot revoke it.
    assert store.api_keys.revoke(b.id, key.id, utc_now()) is None
    assert store.api_keys.find_by_hash(key.key_hash).active
    first = store.api_keys.revoke(a.id, key.id, "2026-01-01T00:00:00.000000Z")
    assert first.revoked_at == "2026-01-01T00:00:00.000000Z" and not first.active
    second = store.api_keys.revoke(a.id, key.id, "2027-01-01T00:00:00.000000Z")
    assert second.revoked_at == "2026-01-01T00:00:00.000000Z"  # the first revocation stands


# -- instruments ----------------------------------------------------------------------------

def test_instruments_are_versioned_immutable_and_scoped(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    builtin = Instrument(id="how-you-buy", version=1, kind="customer", title="How you buy",
                         definition={"sections": []})
    store.instruments.add(builtin)
    store.instruments.add(Instrument(id="how-you-buy", version=2, kind="customer",
                                     title="How you buy v2", definition={"sections": [1]}))
    with pytest.raises(AlreadyExists):
        store.instruments.add(builtin)
    assert store.instruments.get(a.id, "how-you-buy").version == 2  # latest by default
    assert store.instruments.get(a.id, "how-you-buy", 1).title == "How you buy"
    own = Instrument(id="pulse", version=1, kind="customer", title="Pulse", definition={},
                     org_id=a.id)
    store.instruments.add(own)
    assert store.instruments.get(a.id, "pulse") == own
    assert store.instruments.get(b.id, "pulse") is None
    assert {(i.id, i.version) for i in store.instruments.list(a.id)} == {
        ("how-you-buy", 1), ("how-you-buy", 2), ("pulse", 1)}
    assert {(i.id, i.version) for i in store.instruments.list(b.id)} == {
        ("how-you-buy", 1), ("how-you-buy", 2)}


# -- surveys --------------------------------------------------------------------------------

def test_surveys_scoped_paginated_and_updated(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    surveys = [make_survey(store, a.id, f"s{i}") for i in range(5)]
    make_survey(store, b.id, "b's")
    assert store.surveys.get(a.id, surveys[0].id) == surveys[0]
    assert store.surveys.get(b.id, surveys[0].id) is None
    assert store.surveys.get_any(surveys[0].id) == surveys[0]

    seen, cursor = [], None
    while True:
        page = store.surveys.list(a.id, after=cursor, limit=2)
        seen += [s.id for s in page.items]
        assert len(page.items) <= 2
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(s.id for s in surveys)

    updated = store.surveys.update(a.id, surveys[1].id, {"status": "closed", "name": "renamed"})
    assert (updated.status, updated.name) == ("closed", "renamed")
    assert updated.updated_at >= surveys[1].updated_at
    assert store.surveys.get(a.id, surveys[1].id) == updated
    assert store.surveys.update(b.id, surveys[1].id, {"status": "open"}) is None


# -- invitations ----------------------------------------------------------------------------

def _invitation(org_id, survey_id, token, **kw) -> Invitation:
    return Invitation(id=ids.new_id(), org_id=org_id, survey_id=survey_id,
                      token_hash=ids.hash_secret(token), attributes={"size": "large"},
                      expires_at="2099-01-01T00:00:00.000000Z", **kw)


def test_invitations_by_token_listed_by_status_and_updated(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    survey = make_survey(store, a.id)
    invitations = [_invitation(a.id, survey.id, f"t{i}") for i in range(3)]
    store.invitations.add_many(invitations)
    assert store.invitations.find_by_token_hash(ids.hash_secret("t1")) == invitations[1]
    assert store.invitations.get(b.id, invitations[0].id) is None
    store.invitations.update(a.id, invitations[2].id, {"status": "completed"})
    completed = store.invitations.list(a.id, survey.id, status="completed").items
    assert [i.id for i in completed] == [invitations[2].id]
    assert len(store.invitations.list(a.id, survey.id).items) == 3
    assert store.invitations.list(b.id, survey.id).items == []


def test_invitation_batch_is_all_or_nothing(store):
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    store.invitations.add_many([_invitation(a.id, survey.id, "taken")])
    with pytest.raises(Exception):
        store.invitations.add_many([_invitation(a.id, survey.id, "fresh"),
                                    _invitation(a.id, survey.id, "taken")])
    if getattr(store, "supports_transactions", lambda: True)():
        assert store.invitations.find_by_token_hash(ids.hash_secret("fresh")) is None


def _tally_from_the_list(store, org_id, survey_id) -> Counter:
    """What the tally must hold, counted from every invitation of the survey."""
    page = store.invitations.list(org_id, survey_id, limit=10_000)
    return Counter((json.dumps(i.attributes or {}, sort_keys=True), i.status) for i in page.items)


def _stored_tally(store, survey_id) -> Counter:
    counts = Counter()
    for attributes, status, n in store.invitations.tally(survey_id):
        assert n > 0
        counts[(json.dumps(attributes, sort_keys=True), status)] += n
    return counts


def test_invitation_tally_follows_every_write(store):
    """Random batches and status/attribute changes over two surveys; after each round the
    stored tally equals a count over the invitations themselves."""
    rng = random.Random(22)
    a = make_org(store, "A")
    surveys = [make_survey(store, a.id), make_survey(store, a.id, "Other")]
    statuses = ["created", "sent", "started", "completed", "revoked"]

    def attributes():
        chosen = {"size": rng.choice(["small", "large"]), "tenure": rng.choice(["new", "old"])}
        keys = rng.sample(sorted(chosen), rng.randint(0, 2))  # any subset, in any order
        return {k: chosen[k] for k in keys}

    made = []
    for round_ in range(8):
        batch = [replace(_invitation(a.id, rng.choice(surveys).id, f"t{round_}.{i}"),
                         attributes=attributes(), status=rng.choice(["created", "sent"]))
                 for i in range(rng.randint(1, 12))]
        store.invitations.add_many(batch)
        made += batch
        for invitation in rng.sample(made, min(6, len(made))):
            change = rng.choice([{"status": rng.choice(statuses)}, {"attributes": attributes()},
                                 {"opened_at": utc_now()}])
            assert store.invitations.update(a.id, invitation.id, change) is not None
        for survey in surveys:
            assert _stored_tally(store, survey.id) == _tally_from_the_list(store, a.id, survey.id)
    assert sum(_stored_tally(store, surveys[0].id).values()) > 10
    with pytest.raises(Exception):  # a failed batch leaves the tally as it was
        store.invitations.add_many([replace(_invitation(a.id, surveys[0].id, "fresh"),
                                            attributes={"size": "huge"}), made[0]])
    if getattr(store, "supports_transactions", lambda: True)():
        assert _stored_tally(store, surveys[0].id) == _tally_from_the_list(
            store, a.id, surveys[0].id)
    assert store.invitations.update(a.id, "missing", {"status": "sent"}) is None
    store.invitations.replace_tally(surveys[0].id, [({"size": "small"}, "sent", 2),
                                                    ({"size": "small"}, "sent", 1)])
    assert store.invitations.tally(surveys[0].id) == [({"size": "small"}, "sent", 3)]
    assert _stored_tally(store, surveys[1].id) == _tally_from_the_list(store, a.id, surveys[1].id)


def _grouped(rows):
    """Equal (cell, complete, answers) rows once, with how many and where the first was."""
    groups = []
    for position, row in enumerate(rows):
        same = next((g for g in groups if tuple(g[:3]) == row), None)
        if same is None:
            groups.append([*row, 1, position])
        else:
            same[3] += 1
    return [tuple(g) for g in groups]


def test_first_answers_group_the_asked_answers_of_the_first_responses(store):
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    texts = ["Faster quotes", "", None, "Call me on 555 123 4567", "Faster quotes"]
    for i, text in enumerate(texts * 3):
        answers = {"q1": i % 5 // 2, **({"suggestion": text} if text is not None else {})}
        store.responses.add(make_response(a.id, survey.id, f"s{i}", answers,
                                          cell="tenure=new" if i % 5 < 3 else "tenure=old",
                                          complete=i % 5 != 2))
    rows = [(r.cell_key, r.complete, {q: r.answers[q] for q in ("suggestion", "q1")
                                      if r.answers.get(q) is not None})
            for r in store.responses.iter_survey(survey.id, instrument="customer")]
    assert len(rows) == 15 and any(not complete for _, complete, _ in rows)
    expected = _grouped(rows[:10])
    assert any(count > 1 for *_, count, _ in expected) and len(expected) < 10
    assert store.responses.first_answers(survey.id, "customer", ["suggestion", "q1"], 10) \
        == expected
    assert store.responses.first_answers(survey.id, "customer", [], 3) == _grouped(
        [(cell, complete, {}) for cell, complete, _ in rows[:3]])
    assert store.responses.first_answers(survey.id, "vendor", ["q1"], 10) == []


def test_sqlite_first_answers_skip_a_document_that_is_not_json(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/broken.db")
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    for i in range(3):
        store.responses.add(make_response(a.id, survey.id, f"s{i}", {"suggestion": f"t{i}"}))
    with store.write() as c:  # corrupted outside this code
        c.execute("UPDATE responses SET doc = '{not json' WHERE submission_id = 's1'")
    assert [(answers, count, first) for _, _, answers, count, first in
            store.responses.first_answers(survey.id, "customer", ["suggestion"], 5)] == [
        ({"suggestion": "t0"}, 1, 0), ({"suggestion": "t2"}, 1, 1)]


# -- responses and their counters ------------------------------------------------------------

def test_response_idempotency_and_counters(store):
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    first = make_response(a.id, survey.id, "sub-1", {"q1": 4, "q2": "yes"})
    stored, outcome = store.responses.add(first)
    assert outcome == CREATED and stored == first.response

    again = make_response(a.id, survey.id, "sub-1", {"q1": 4, "q2": "yes"})
    stored, outcome = store.responses.add(again)
    assert outcome == DUPLICATE and stored.id == first.response.id

    changed = make_response(a.id, survey.id, "sub-1", {"q1": 5, "q2": "yes"})
    stored, outcome = store.responses.add(changed)
    assert outcome == CONFLICT and stored.answers == {"q1": 4, "q2": "yes"}

    assert store.responses.count(survey.id) == 1
    assert store.aggregates.for_survey(survey.id) == {
        "tenure=new": {"n": 1, "q1=4": 1, "q2=yes": 1}}


def test_batch_mixes_outcomes_and_sums_counters_per_cell(store):
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    store.responses.add(make_response(a.id, survey.id, "old", {"q1": 1}))
    batch = [
        make_response(a.id, survey.id, "b1", {"q1": 3}),
        make_response(a.id, survey.id, "b2", {"q1": 3}, cell="tenure=long_standing"),
        make_response(a.id, survey.id, "old", {"q1": 1}),  # duplicate of a stored one
        make_response(a.id, survey.id, "old", {"q1": 2}),  # conflicts with it
        make_response(a.id, survey.id, "b1", {"q1": 3}),  # repeated inside the batch
        make_response(a.id, survey.id, "b3", {"q1.x": "$v"}),  # awkward counter names
    ]
    outcomes = [outcome for _, outcome in store.responses.add_many(batch)]
    assert outcomes == [CREATED, CREATED, DUPLICATE, CONFLICT, DUPLICATE, CREATED]
    assert store.responses.count(survey.id) == 4
    assert store.aggregates.for_survey(survey.id) == {
        "tenure=new": {"n": 3, "q1=1": 1, "q1=3": 1, "q1.x=$v": 1},
        "tenure=long_standing": {"n": 1, "q1=3": 1},
    }


def test_responses_filtered_paginated_streamed_and_scoped(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    survey = make_survey(store, a.id)
    made = []
    for i in range(7):
        new = make_response(
            a.id, survey.id, f"s{i}", {"q": i},
            cell="tenure=new" if i % 2 else "tenure=long_standing",
            source="web" if i < 3 else "api", complete=i != 6,
            created_at=f"2026-0{i + 1}-01T00:00:00.000000Z")
        store.responses.add(new)
        made.append(new.response)

    def ids_of(**filters):
        return [r.submission_id for r in store.responses.list(a.id, survey.id, limit=100,
                                                              filters=filters).items]

    assert ids_of(source="web") == ["s0", "s1", "s2"]
    assert ids_of(complete=False) == ["s6"]
    assert ids_of(attributes={"tenure": "new"}) == ["s1", "s3", "s5"]
    assert ids_of(created_from="2026-03-01T00:00:00.000000Z",
                  created_to="2026-05-01T00:00:00.000000Z") == [
        "s2", "s3"]
    assert ids_of(source="api", attributes={"tenure": "long_standing"}, complete=True) == ["s4"]
    marked = make_response(a.id, survey.id, "fp", {"q": 9})
    store.responses.add(NewResponse(replace(marked.response, fingerprint="abc123"),
                                    marked.counters))
    assert ids_of(fingerprint="abc123") == ["fp"]
    assert ids_of(fingerprint="other") == []

    page1 = store.responses.list(a.id, survey.id, limit=4)
    page2 = store.responses.list(a.id, survey.id, limit=4, after=page1.next_cursor)
    assert len(page1.items) == 4 and page1.next_cursor is not None
    assert len(page2.items) == 4 and page2.next_cursor is None
    assert [r.id for r in page1.items + page2.items][:7] == sorted(r.id for r in made)

    streamed = list(store.responses.iter_survey(survey.id, batch_size=3))
    assert [r.id for r in streamed][:7] == sorted(r.id for r in made)
    assert store.responses.get(a.id, made[0].id) == made[0]
    assert store.responses.find_by_submission(survey.id, "s3") == made[3]
    assert store.responses.find_by_submission(survey.id, "nope") is None
    assert store.responses.get(b.id, made[0].id) is None
    assert store.responses.list(b.id, survey.id).items == []


def test_aggregates_replaced_atomically_per_survey(store):
    a = make_org(store, "A")
    s1, s2 = make_survey(store, a.id), make_survey(store, a.id)
    store.responses.add(make_response(a.id, s1.id, "x", {"q": 1}))
    store.responses.add(make_response(a.id, s2.id, "y", {"q": 2}))
    store.aggregates.replace_survey(s1.id, {"tenure=new": {"n": 5}, "tenure=long_standing":
                                            {"n": 2, "q=3": 2}})
    assert store.aggregates.for_survey(s1.id) == {"tenure=new": {"n": 5},
                                                  "tenure=long_standing": {"n": 2, "q=3": 2}}
    assert store.aggregates.for_survey(s2.id) == {"tenure=new": {"n": 1, "q=2": 1}}


def test_concurrent_retries_store_each_submission_once(store, backend):
    if backend == "mongomock":
        pytest.skip("mongomock-ng checks unique indexes non-atomically across threads (a real "
                    "server does not): run with MONGODB_URI to cover MongoDB here")
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    batch = [make_response(a.id, survey.id, f"s{i}", {"q": i % 3}) for i in range(50)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def post():
        results = store.responses.add_many(batch)
        with lock:
            outcomes.extend(o for _, o in results)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(CREATED) == 50 and outcomes.count(DUPLICATE) == 200
    assert store.responses.count(survey.id) == 50
    assert store.aggregates.for_survey(survey.id)["tenure=new"]["n"] == 50


# -- briefs ---------------------------------------------------------------------------------

def test_briefs_store_pdf_bytes_and_metadata(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    survey = make_survey(store, a.id)
    pdf = b"%PDF-1.4 fake but byte-exact \x00\xff"
    brief = Brief(id=ids.new_id(), org_id=a.id, survey_id=survey.id,
                  metadata={"audience": "board", "responses": 120},
                  checksum=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
    store.briefs.add(brief, pdf)
    assert store.briefs.get(a.id, brief.id) == brief
    assert store.briefs.get_pdf(a.id, brief.id) == pdf
    assert store.briefs.get(b.id, brief.id) is None and store.briefs.get_pdf(b.id, brief.id) is None
    assert store.briefs.list(a.id, survey.id) == [brief]


def test_brief_links_are_revoked_by_generation_and_briefs_deleted_with_their_pdf(store):
    a, b = make_org(store, "A"), make_org(store, "B")
    survey = make_survey(store, a.id)
    pdf = b"%PDF-1.4 to be deleted"
    brief = store.briefs.add(Brief(id=ids.new_id(), org_id=a.id, survey_id=survey.id,
                                   metadata={}, checksum=hashlib.sha256(pdf).hexdigest(),
                                   size=len(pdf)), pdf)
    assert brief.share_generation == 0
    assert store.briefs.revoke_links(b.id, brief.id) is None  # another tenant's: not found
    assert store.briefs.revoke_links(a.id, brief.id).share_generation == 1
    assert store.briefs.revoke_links(a.id, brief.id).share_generation == 2
    assert store.briefs.get(a.id, brief.id).share_generation == 2
    assert store.briefs.delete(b.id, brief.id) is False
    assert store.briefs.get_pdf(a.id, brief.id) == pdf
    assert store.briefs.delete(a.id, brief.id) is True
    assert store.briefs.get(a.id, brief.id) is None and store.briefs.get_pdf(a.id, brief.id) is None
    assert store.briefs.list(a.id, survey.id) == []
    assert store.briefs.delete(a.id, brief.id) is False
    assert store.briefs.revoke_links(a.id, brief.id) is None


# -- backend-specific guarantees ------------------------------------------------------------

def test_sqlite_schema_is_versioned_wal_and_enforces_foreign_keys(tmp_path):
    from shared.storage.sqlite import MIGRATIONS

    path = tmp_path / "fk.db"
    store = open_store(f"sqlite:///{path}")
    assert store.schema_version() == len(MIGRATIONS)
    assert store.conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(Exception, match="FOREIGN KEY"):
        store.api_keys.add(ApiKey(id="k", org_id="missing", name="k", scopes=("read",),
                                  key_hash="h", prefix="p", created_at=utc_now()))
    org = make_org(store, "Persisted")
    store.close()
    reopened = open_store(f"sqlite:///{path}")  # migrating again is a no-op
    assert reopened.schema_version() == len(MIGRATIONS)
    assert reopened.organizations.get(org.id) == org


def _database_at_version(path, version: int):
    """An SQLite database as the first `version` migrations left it (an older install), open."""
    import sqlite3

    from shared.storage.sqlite import MIGRATIONS

    old = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        old.executescript(script)
    old.execute(f"PRAGMA user_version = {version}")
    return old


def test_sqlite_migration_counts_stored_invitations_into_the_tally(tmp_path):
    """A database written before the tally opens with every stored invitation counted."""
    path = tmp_path / "v5.db"
    old = _database_at_version(path, 5)
    old.execute("INSERT INTO organizations VALUES ('o', 'Acme', '{}')")
    old.execute("INSERT INTO surveys VALUES ('s', 'o', '{}')")
    rows = [("i1", '{"tenure":"new","size":"large"}', "sent"),
            ("i2", '{"size":"large","tenure":"new"}', "sent"),
            ("i3", '{"size":"small"}', "completed"), ("i4", "null", "created")]
    old.executemany("INSERT INTO invitations VALUES (?, 'o', 's', ?, ?, ?)",
                    [(i, f"hash-{i}", status, f'{{"attributes":{attributes}}}')
                     for i, attributes, status in rows])
    old.commit()
    old.close()

    store = open_store(f"sqlite:///{path}")
    assert sorted(store.invitations.tally("s"), key=repr) == sorted([
        ({"size": "large", "tenure": "new"}, "sent", 2), ({"size": "small"}, "completed", 1),
        ({}, "created", 1)], key=repr)


def test_sqlite_migration_4_carries_every_counter_into_per_cell_documents(tmp_path):
    """A database written before migration 4 (one row per counter) opens with the same counts."""
    from shared.storage.sqlite import MIGRATIONS

    path = tmp_path / "v3.db"
    old = _database_at_version(path, 3)
    rows = [("s1", "customer|size=large", "n", 3), ("s1", "customer|size=large", "q1=2", 2),
            ("s1", "vendor|role=sales", "n", 1), ("s2", "customer|size=small", "q1@1=a", 7)]
    old.executemany("INSERT INTO aggregates VALUES (?, ?, ?, ?)", rows)
    old.commit()
    old.close()

    store = open_store(f"sqlite:///{path}")
    assert store.schema_version() == len(MIGRATIONS)
    assert store.aggregates.for_survey("s1") == {"customer|size=large": {"n": 3, "q1=2": 2},
                                                 "vendor|role=sales": {"n": 1}}
    assert store.aggregates.for_survey("s2") == {"customer|size=small": {"q1@1=a": 7}}


def test_mongo_indexes_are_made_by_initialize_not_by_opening():
    from shared.storage import StorageError

    store = open_store(f"mongomock://localhost/idx_{uuid.uuid4().hex[:8]}")
    assert store.db.responses.index_information() == {}  # opening creates nothing
    with pytest.raises(StorageError, match="init-db"):
        store.check()  # a service refuses a database init-db has not prepared
    store.initialize()
    indexes = store.db.responses.index_information()
    unique = [spec["key"] for spec in indexes.values() if spec.get("unique")]
    # The idempotency key, led by the survey's shard prefix (a sharded unique index must
    # start with the shard key; the prefix is a function of the survey id).
    assert [("sk", 1), ("survey_id", 1), ("submission_id", 1)] in unique
    store.check()
    assert store.initialize()  # idempotent


def test_real_server_url_keeps_its_options():
    assert with_database("mongodb://h1:27017,h2:27017/?replicaSet=rs0&authSource=admin", "c1") \
        == "mongodb://h1:27017,h2:27017/c1?replicaSet=rs0&authSource=admin"
    assert with_database("mongodb://u:p@localhost:27017/survey?directConnection=true", "c2") \
        == "mongodb://u:p@localhost:27017/c2?directConnection=true"
    assert with_database("mongodb+srv://cluster.example.net", "c3") == \
        "mongodb+srv://cluster.example.net/c3"


# -- webhooks and their delivery outbox -------------------------------------------------------

def test_webhooks_scoped_updated_and_deleted(store):
    from shared.storage import Webhook

    a, b = make_org(store, "A"), make_org(store, "B")
    hook = store.webhooks.add(Webhook(id=ids.new_id(), org_id=a.id, url="http://x/hook",
                                      secret="s3cret", events=("response.created",)))
    assert store.webhooks.get(a.id, hook.id) == hook and store.webhooks.get(b.id, hook.id) is None
    assert store.webhooks.list(a.id) == [hook] and store.webhooks.list(b.id) == []
    updated = store.webhooks.update(a.id, hook.id, {"last_status": 500, "last_error": "boom"})
    assert (updated.last_status, updated.last_error, updated.events) == (500, "boom",
                                                                         ("response.created",))
    assert store.webhooks.update(b.id, hook.id, {"active": False}) is None
    assert not store.webhooks.delete(b.id, hook.id)
    assert store.webhooks.delete(a.id, hook.id) and store.webhooks.get(a.id, hook.id) is None


def test_due_deliveries_are_claimed_once(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    early = Delivery(id=ids.new_id(), org_id=a.id, webhook_id="w", event="response.created",
                     payload={"n": 1}, next_attempt_at="2026-01-01T00:00:00.000000Z")
    late = Delivery(id=ids.new_id(), org_id=a.id, webhook_id="w", event="response.created",
                    payload={"n": 2}, next_attempt_at="2026-01-03T00:00:00.000000Z")
    store.deliveries.add_many([early, late])
    now, lease = "2026-01-02T00:00:00.000000Z", "2026-01-02T00:01:00.000000Z"
    claimed = store.deliveries.claim_due(now, lease)
    assert [d.id for d in claimed] == [early.id] and claimed[0].payload == {"n": 1}
    assert store.deliveries.claim_due(now, lease) == []  # leased: a second poller gets nothing
    store.deliveries.update(early.id, {"status": "delivered", "attempts": 1, "last_status": 204})
    later = store.deliveries.claim_due("2026-01-05T00:00:00.000000Z", "2026-01-05T00:01:00Z")
    assert [d.id for d in later] == [late.id]  # delivered ones are never claimed again
    listed = store.deliveries.list(a.id, "w")
    assert [d.id for d in listed] == [late.id, early.id] and listed[1].status == "delivered"


def test_deliveries_are_claimed_per_webhook_and_leases_guard_every_step(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    due = "2026-01-01T00:00:00.000000Z"
    made = [Delivery(id=ids.new_id(), org_id=a.id, webhook_id=w, event="response.created",
                     payload={"n": i}, next_attempt_at=due)
            for i, w in enumerate(["slow"] * 5 + ["fast"] * 2 + ["busy"])]
    store.deliveries.add_many(made)
    now, until = "2026-01-02T00:00:00.000000Z", "2026-01-02T00:02:00.000000Z"
    claimed = store.deliveries.claim_due(now, until, per_webhook=2, skip_webhooks={"busy"})
    assert [d.payload["n"] for d in claimed] == [0, 1, 5, 6]  # oldest first, 2 per webhook
    assert len({d.lease for d in claimed}) == 1 and claimed[0].lease
    first = claimed[0]
    assert store.deliveries.begin_attempt(first.id, "another-lease", now) is None
    assert store.deliveries.begin_attempt(first.id, first.lease,
                                          "2026-01-02T00:05:00.000000Z") is None  # too late
    started = store.deliveries.begin_attempt(first.id, first.lease, now)
    assert started.attempts == 1
    assert store.deliveries.update(first.id, {"status": "delivered"}, lease="stale") is None
    done = store.deliveries.update(first.id, {"status": "delivered"}, lease=first.lease)
    assert (done.status, done.attempts, done.lease) == ("delivered", 1, None)
    rest = store.deliveries.claim_due(now, until)
    # the claimed ones are leased until `until`; the rest of "slow" and "busy" are still due
    assert sorted(d.payload["n"] for d in rest) == [2, 3, 4, 7]


def test_finished_deliveries_are_pruned_in_bounded_passes_and_pending_ones_never(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    old, recent = "2026-01-01T00:00:00.000000Z", "2026-03-01T00:00:00.000000Z"
    made = {}
    for status in ("delivered", "failed", "pending"):
        for when in (old, recent):
            made[status, when] = [Delivery(
                id=ids.new_id(), org_id=a.id, webhook_id="w", event="response.created",
                payload={}, status=status, next_attempt_at=when) for _ in range(3)]
    store.deliveries.add_many([d for batch in made.values() for d in batch])
    cutoff = "2026-02-01T00:00:00.000000Z"
    passes = []
    while True:
        passes.append(store.deliveries.prune_finished(cutoff, limit=4))
        if passes[-1] == 0:
            break
    assert passes == [4, 2, 0]  # six old finished ones, at most four a pass
    kept = {d.id for d in store.deliveries.list(a.id, "w", limit=100)}
    assert kept == {d.id for key, batch in made.items() for d in batch
                    if key[0] == "pending" or key[1] == recent}


def test_a_long_backlog_of_one_webhook_cannot_fill_a_claim(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    backlog = [Delivery(id=ids.new_id(), org_id=a.id, webhook_id="flooded",
                        event="response.created", payload={"n": i},
                        next_attempt_at="2026-01-01T00:00:00.000000Z") for i in range(40)]
    late = Delivery(id=ids.new_id(), org_id=a.id, webhook_id="quiet", event="response.created",
                    payload={"n": -1}, next_attempt_at="2026-01-01T12:00:00.000000Z")
    store.deliveries.add_many([*backlog, late])
    claimed = store.deliveries.claim_due("2026-01-02T00:00:00.000000Z",
                                         "2026-01-02T00:03:00.000000Z", limit=6, per_webhook=3)
    assert sorted(d.webhook_id for d in claimed) == ["flooded"] * 3 + ["quiet"]


def test_partial_responses_are_drafts_until_complete(store):
    from shared.storage import UPDATED

    a = make_org(store, "A")
    survey = make_survey(store, a.id)

    def draft(answers, complete=False):
        new = make_response(a.id, survey.id, "web-1", answers, complete=complete)
        return NewResponse(new.response, new.counters if complete else ())

    first, outcome = store.responses.add(draft({"q1": 1}))
    assert outcome == CREATED and not first.complete
    second, outcome = store.responses.add(draft({"q1": 1, "q2": 2}))
    assert outcome == UPDATED and second.id == first.id and second.created_at == first.created_at
    assert store.aggregates.for_survey(survey.id) == {}  # drafts are never counted
    done, outcome = store.responses.add(draft({"q1": 1, "q2": 3}, complete=True))
    assert outcome == UPDATED and done.id == first.id and done.complete
    assert store.aggregates.for_survey(survey.id) == {"tenure=new": {"n": 1, "q1=1": 1, "q2=3": 1}}
    again, outcome = store.responses.add(draft({"q1": 5}))
    assert outcome == CONFLICT and again.complete  # complete is final
    assert store.responses.count(survey.id) == 1
    assert store.responses.get(a.id, first.id).answers == {"q1": 1, "q2": 3}
    # In one batch: a draft then its completion, for a new submission id.
    news = [make_response(a.id, survey.id, "web-2", {"q1": 2}, complete=False),
            make_response(a.id, survey.id, "web-2", {"q1": 4}, complete=True)]
    news[0] = NewResponse(news[0].response, ())
    outcomes = [o for _, o in store.responses.add_many(news)]
    assert outcomes == [CREATED, UPDATED]
    assert store.aggregates.for_survey(survey.id)["tenure=new"]["n"] == 2
    assert store.responses.count(survey.id) == 2


def test_erasing_a_response_takes_its_counters_back_out(store):
    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    kept = make_response(a.id, survey.id, "keep", {"q1": 1, "q2": 2})
    gone = make_response(a.id, survey.id, "gone", {"q1": 1, "q2": 5})
    store.responses.add_many([kept, gone])
    by_id = {kept.response.id: kept.counters, gone.response.id: gone.counters}
    erased = store.responses.erase(survey.id, "gone", lambda r: by_id[r.id])
    assert erased.id == gone.response.id
    assert store.responses.find_by_submission(survey.id, "gone") is None
    assert store.responses.count(survey.id) == 1
    assert store.aggregates.for_survey(survey.id) == {"tenure=new": {"n": 1, "q1=1": 1, "q2=2": 1}}
    assert store.responses.erase(survey.id, "gone", lambda r: ()) is None


def test_audit_events_are_listed_newest_first_per_org(store):
    from shared.storage import AuditEvent

    a, b = make_org(store, "A"), make_org(store, "B")
    first = store.audit.add(AuditEvent(ids.new_id(), a.id, "key.created", "cli", {"key": "k1"}))
    second = store.audit.add(AuditEvent(ids.new_id(), a.id, "survey.opened", "k1", {"survey": "s"}))
    assert store.audit.list(a.id) == [second, first]
    assert store.audit.list(b.id) == []


def test_webhook_deliveries_commit_with_their_responses(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    survey = make_survey(store, a.id)
    seen = []

    def outbox(written):
        seen.append([r.submission_id for r in written])
        return [Delivery(id=ids.new_id(), org_id=a.id, webhook_id="w", event="response.created",
                         payload={"submission_id": r.submission_id}) for r in written]

    store.responses.add_many([make_response(a.id, survey.id, "s1", {"q1": 1}),
                              make_response(a.id, survey.id, "draft", {"q1": 2}, complete=False),
                              make_response(a.id, survey.id, "s1", {"q1": 1})], outbox=outbox)
    assert seen[-1] == ["s1"]  # complete and written: not the draft, not the repeat
    store.responses.add(make_response(a.id, survey.id, "s1", {"q1": 1}), outbox=outbox)  # repeat
    assert [d.payload for d in store.deliveries.list(a.id, "w")] == [{"submission_id": "s1"}]

    def crashing(written):
        raise RuntimeError("the process dies before the commit")

    with pytest.raises(RuntimeError):
        store.responses.add(make_response(a.id, survey.id, "s2", {"q1": 3}), outbox=crashing)
    if getattr(store, "supports_transactions", lambda: True)():
        # One transaction: no response is acknowledged whose events could be lost.
        assert store.responses.find_by_submission(survey.id, "s2") is None


def test_a_stale_lease_holder_changes_nothing_and_attempts_count_in_place(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    delivery = Delivery(id=ids.new_id(), org_id=a.id, webhook_id="w", event="response.created",
                        payload={}, next_attempt_at="2026-01-01T00:00:00.000000Z")
    store.deliveries.add_many([delivery])
    [mine] = store.deliveries.claim_due("2026-01-01T00:00:00.000000Z",
                                        "2026-01-01T00:01:00.000000Z")
    # The first poller stalls past its lease; a second one claims the delivery again.
    [theirs] = store.deliveries.claim_due("2026-01-01T00:02:00.000000Z",
                                          "2026-01-01T00:03:00.000000Z")
    assert mine.lease != theirs.lease
    assert store.deliveries.begin_attempt(mine.id, mine.lease,
                                          "2026-01-01T00:02:10.000000Z") is None
    assert store.deliveries.update(mine.id, {"status": "delivered"}, lease=mine.lease) is None
    started = store.deliveries.begin_attempt(theirs.id, theirs.lease,
                                             "2026-01-01T00:02:10.000000Z")
    assert started.attempts == 1
    done = store.deliveries.update(theirs.id, {"status": "delivered", "last_status": 204},
                                   lease=theirs.lease)
    assert (done.status, done.attempts, done.last_status) == ("delivered", 1, 204)


def test_claims_take_few_deliveries_at_a_time(store):
    from shared.storage import Delivery

    a = make_org(store, "A")
    store.deliveries.add_many([
        Delivery(id=ids.new_id(), org_id=a.id, webhook_id="w", event="response.created",
                 payload={"n": i}, next_attempt_at="2026-01-01T00:00:00.000000Z")
        for i in range(25)])
    claimed = store.deliveries.claim_due("2026-01-02T00:00:00.000000Z",
                                         "2026-01-02T00:01:00.000000Z", limit=10)
    assert len(claimed) == 10


def test_mongo_initialize_upgrades_a_database_of_the_previous_version():
    """Documents and the unique index as the version before shard prefixes wrote them."""
    store = open_store(f"mongomock://localhost/old_{uuid.uuid4().hex[:8]}")
    db = store.db
    db.responses.create_index([("survey_id", 1), ("submission_id", 1)], unique=True)
    old = make_response("o", "s1", "sub-1", {"q1": 2})
    doc = {**{k: v for k, v in old.response.__dict__.items() if k != "id"}, "_id": old.response.id}
    db.responses.insert_one(doc)  # counted in its transaction then: no pending mark
    db.aggregates.insert_one({"_id": "s1|tenure=new", "survey_id": "s1", "cell_key": "tenure=new",
                              "counts": {"n": 1, "q1=2": 1}})
    steps = store.initialize()
    assert "dropped index survey_id_1_submission_id_1, replaced by " \
           "sk_1_survey_id_1_submission_id_1" in steps
    store.check()
    assert store.responses.find_by_submission("s1", "sub-1") == old.response
    assert store.aggregates.for_survey("s1") == {"tenure=new": {"n": 1, "q1=2": 1}}
    assert store.responses.add(make_response("o", "s1", "sub-1", {"q1": 2}))[1] == DUPLICATE
    store.responses.add(make_response("o", "s1", "sub-2", {"q1": 2}))
    store.aggregates.fold_pending()
    assert store.aggregates.for_survey("s1") == {"tenure=new": {"n": 2, "q1=2": 2}}


def test_mongo_initialize_counts_the_invitations_of_a_database_without_a_tally():
    store = open_store(f"mongomock://localhost/old_{uuid.uuid4().hex[:8]}")
    for i, (attributes, status) in enumerate([({"tenure": "new", "size": "large"}, "sent"),
                                              ({"size": "large", "tenure": "new"}, "sent"),
                                              ({}, "completed")]):
        store.db.invitations.insert_one({"_id": f"i{i}", "org_id": "o", "survey_id": "s",
                                         "token_hash": f"h{i}",
                                         "attributes": attributes, "status": status})
    assert "counted the invitations into invitation_tally" in store.initialize()
    assert sorted(store.invitations.tally("s"), key=repr) == sorted([
        ({"size": "large", "tenure": "new"}, "sent", 2), ({}, "completed", 1)], key=repr)
    assert "counted the invitations into invitation_tally" not in store.initialize()
