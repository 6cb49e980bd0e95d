"""The MongoDB backend against a wire-protocol fake (mockupdb) that real pymongo talks to: the
commands it sends (transactions, shard-key filters, bounded export queries, shard commands)
and how it meets server errors and silence. No mongod can run on this machine; the behaviour
against a real replica set is covered by the contract suite when MONGODB_URI is set."""

from __future__ import annotations

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from shared import ids
from shared.settings import Settings
from shared.storage import CREATED, DUPLICATE, StorageError, is_unavailable, open_store
from shared.storage.mongo import RESPONSES_UNIQUE, shard_prefix
from tests.support.helpers import free_port
from tests.support.mongo_fake import SILENT, FakeMongo, cursor
from tests.shared.test_storage_contract import make_response


@pytest.fixture
def fake():
    server = FakeMongo()
    yield server
    server.stop()


def _response_doc(new, **extra) -> dict:
    r = new.response
    doc = {k: v for k, v in r.__dict__.items() if k != "id"}
    return {"_id": r.id, **doc, "sk": shard_prefix(r.survey_id), **extra}


# -- 2. transactions are switched off only by a server that answered without them ------------

def test_a_failed_first_hello_does_not_switch_transactions_off():
    """compose's member before rs.initiate(): no primary, so server selection times out."""
    port = free_port()
    waiting = FakeMongo(kind="uninitiated", port=port)
    store = open_store(f"mongodb://localhost:{port}/survey?replicaSet=rs0", timeout_ms=2000)
    with pytest.raises(ServerSelectionTimeoutError):
        store.supports_transactions()
    assert store._transactions is None  # nothing learned, nothing cached
    waiting.kind = "primary"  # the set is initiated: the same server now answers as primary
    try:
        # The same client: its monitor finds the primary, and transactions are on.
        assert store.supports_transactions() is True
    finally:
        store.close()
        waiting.stop()


def test_only_a_server_without_sessions_turns_transactions_off():
    standalone = FakeMongo(kind="standalone")
    try:
        store = open_store(standalone.url(options="directConnection=true"), timeout_ms=2000)
        assert store.supports_transactions() is False
        store.responses.add(make_response("o", "s", "sub", {"q1": 1}))
        assert not standalone.sent("commitTransaction")  # written without a transaction
        store.close()
    finally:
        standalone.stop()


def test_production_against_a_replica_set_refuses_a_server_without_transactions():
    no_sessions = FakeMongo(kind="primary", sessions=False)
    try:
        store = open_store(no_sessions.url(), timeout_ms=2000, production=True)
        with pytest.raises(StorageError, match="transaction"):
            store.check()
        # Outside production, or with a URL naming no replica set, it runs without them.
        assert open_store(no_sessions.url(), timeout_ms=2000).supports_transactions() is False
    finally:
        no_sessions.stop()


# -- 3. timeouts --------------------------------------------------------------------------

def test_a_silent_server_times_out_and_the_api_answers_503_with_retry_after(fake, tmp_path):
    fake.answer = lambda name, command: (
        cursor(command, [{"name": RESPONSES_UNIQUE, "key": {"sk": 1}, "v": 2}])
        if name == "listIndexes" else SILENT)
    store = open_store(fake.url(), timeout_ms=300)
    with pytest.raises(Exception) as raised:
        store.surveys.get_any("x")
    assert is_unavailable(raised.value)
    assert fake.sent("find")[0]["maxTimeMS"] <= 300  # the deadline travels to the server too
    store.close()

    import survey_api

    app = survey_api.create_app(Settings(
        app_env="test", store_url=fake.url(), secret_key="test-secret-key-0123456789",
        service_token="test-service-token-0123", webhook_poll_seconds=0,
        counter_fold_seconds=0, mongodb_timeout_ms=300))
    answer = app.test_client().get("/v1/surveys", headers={"Authorization": "Bearer bk_x"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.content_type == "application/problem+json"
    assert answer.get_json()["status"] == 503


# -- 4. DuplicateKey inside a transaction restarts it at once -----------------------------

def test_duplicate_key_in_a_transaction_restarts_it_directly(fake):
    new = make_response("o", "s", "sub-1", {"q1": 4})
    winner = make_response("o", "s", "sub-1", {"q1": 4})  # same content, stored first
    finds = []

    def answer(name, command):
        if name == "find" and command["find"] == "responses":
            finds.append(command)
            # The first lookup sees nothing; by the restart the winner is stored.
            return cursor(command, [] if len(finds) == 1 else [_response_doc(winner)])
        if name == "insert" and command["insert"] == "responses":
            return {"ok": 1, "n": 0, "writeErrors": [
                {"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}]}
        return None

    fake.answer = answer
    store = open_store(fake.url(), timeout_ms=5000)
    stored, outcome = store.responses.add(new)
    assert outcome == DUPLICATE and stored.id == winner.response.id
    sent = [(next(iter(c)), c.get("txnNumber"), c.get("startTransaction"))
            for c in fake.sent("find", "insert", "abortTransaction", "commitTransaction")]
    first, second = sent[0][1], sent[3][1]
    assert sent == [("find", first, True), ("insert", first, None),
                    ("abortTransaction", first, None),
                    ("find", second, True), ("commitTransaction", second, None)]
    assert second > first  # a new transaction, not a retried command in the aborted one
    store.close()


# -- 5. filters carry the shard key ------------------------------------------------------

def test_writes_and_reads_name_the_full_shard_key(fake):
    survey, sk = "01HSURVEY", shard_prefix("01HSURVEY")
    draft = make_response("o", survey, "sub-1", {"q1": 1}, complete=False)
    final = make_response("o", survey, "sub-1", {"q1": 2})

    def answer(name, command):
        if name == "find" and command["find"] == "responses" and "submission_id" in command["filter"]:
            return cursor(command, [_response_doc(draft)])
        if name == "update":
            return {"ok": 1, "n": 1, "nModified": 1}
        return None

    fake.answer = answer
    store = open_store(fake.url(), timeout_ms=5000)
    store.responses.add(final)  # replaces the stored draft
    replace = fake.sent("update")[0]["updates"][0]
    assert replace["q"]["sk"] == sk and replace["q"]["survey_id"] == survey
    assert replace["q"]["submission_id"] == "sub-1"
    assert replace["u"]["sk"] == sk and replace["u"]["pending"] is True

    store.responses.get("o", "r1", survey_id=survey)
    store.responses.find_by_submission(survey, "sub-9")
    store.responses.list("o", survey)
    store.aggregates.for_survey(survey)
    for command in fake.sent("find", "aggregate")[-5:]:
        match = command.get("filter") or command["pipeline"][0]["$match"]
        assert (match["sk"], match["survey_id"]) == (sk, survey), command
    store.close()


def test_a_fold_upserts_cells_by_their_full_shard_key(fake):
    survey, sk = "01HSURVEY", shard_prefix("01HSURVEY")
    pending = make_response("o", survey, "sub-1", {"q1": 1})

    def answer(name, command):
        if name == "distinct":
            return {"ok": 1, "values": [survey]}
        if name == "find" and command["find"] == "responses" and "fold.id" in command["filter"]:
            return cursor(command, [_response_doc(pending, counters=list(pending.counters))])
        if name == "find" and command["find"] == "responses" and "fold" in command["filter"]:
            return cursor(command, [{"_id": pending.response.id}])
        if name == "update":
            return {"ok": 1, "n": 1, "nModified": 1}
        return None

    fake.answer = answer
    store = open_store(fake.url(), timeout_ms=5000)
    assert store.aggregates.fold_pending() == 1
    cell_updates = [u for c in fake.sent("update") if c["update"] == "aggregates"
                    for u in c["updates"]]
    upsert, increment = cell_updates[0], cell_updates[1]
    assert upsert["upsert"] is True
    assert upsert["q"] == {"_id": f"{survey}|tenure=new", "sk": sk}
    assert increment["q"]["sk"] == sk and increment["q"]["folds"]["$ne"]
    assert increment["u"]["$inc"] == {"counts.n": 1, "counts.q1=1": 1}
    # One transaction holds the whole fold: the folder's, not a respondent's post.
    assert len(fake.sent("commitTransaction")) == 1
    store.close()


# -- 6. exports re-query per batch --------------------------------------------------------

def test_an_export_issues_bounded_queries_and_never_needs_a_cursor_between_batches(fake):
    survey = "01HSURVEY"
    docs = [_response_doc(make_response("o", survey, f"sub-{i}", {"q1": i}))
            for i in range(5)]
    docs.sort(key=lambda d: d["_id"])

    def answer(name, command):
        if name == "find":
            after = command["filter"].get("_id", {}).get("$gt", "")
            return cursor(command, [d for d in docs if d["_id"] > after][:command["limit"]])
        if name == "getMore":  # the server killed the cursor (idle, session timeout, election)
            return {"ok": 0, "code": 43, "errmsg": "cursor id not found"}
        return None

    fake.answer = answer
    store = open_store(fake.url(), timeout_ms=5000)
    rows = store.responses.iter_survey(survey, batch_size=2)
    streamed = [next(rows).submission_id for _ in range(3)]
    fake.stop()  # an election between batches: a new server under the same address
    fake.server = type(fake.server)(port=fake.port, request_timeout=30)
    fake.server.autoresponds(fake._handle)
    fake.server.run()
    streamed += [r.submission_id for r in rows]
    assert streamed == [d["submission_id"] for d in docs]
    finds = fake.sent("find")
    assert [f["limit"] for f in finds] == [2, 2, 2]
    assert [f["filter"].get("_id") for f in finds] == [
        None, {"$gt": docs[1]["_id"]}, {"$gt": docs[3]["_id"]}]
    assert not fake.sent("getMore")
    store.close()


# -- 7 and 11. init-db builds indexes and, on a mongos, shards -----------------------------

def test_init_db_against_a_mongos_shards_responses_and_counters():
    mongos = FakeMongo(kind="mongos")
    try:
        store = open_store(f"mongodb://{mongos.host}/survey", timeout_ms=5000)
        store.initialize()
        sharding = [(next(iter(c)), c) for c in mongos.sent("enableSharding", "shardCollection")]
        assert sharding[0] == ("enableSharding", sharding[0][1])
        assert sharding[0][1]["enableSharding"] == "survey"
        collections = {c["shardCollection"]: c for _, c in sharding[1:]}
        assert dict(collections["survey.responses"]["key"]) == {
            "sk": 1, "survey_id": 1, "submission_id": 1}
        assert collections["survey.responses"]["unique"] is True
        assert dict(collections["survey.aggregates"]["key"]) == {"sk": 1, "_id": 1}
        # The unique index exists before the collection is sharded on it.
        created = [i for c in mongos.sent("createIndexes") if c["createIndexes"] == "responses"
                   for i in c["indexes"]]
        assert any(i["name"] == RESPONSES_UNIQUE and i.get("unique") for i in created)
        store.close()
    finally:
        mongos.stop()


def test_opening_the_store_and_checking_it_never_creates_anything(fake):
    fake.answer = lambda name, command: (
        cursor(command, [{"name": RESPONSES_UNIQUE, "key": {"sk": 1}, "v": 2}])
        if name == "listIndexes" else None)
    store = open_store(fake.url(), timeout_ms=5000)
    store.check()
    assert [next(iter(c)) for c in fake.sent()] == ["listIndexes"]  # reads only
    store.close()


def test_a_replica_set_initialize_does_not_shard(fake):
    store = open_store(fake.url(), timeout_ms=5000)
    store.initialize()
    assert fake.sent("createIndexes") and not fake.sent("shardCollection", "enableSharding")
    store.close()


# -- 8. webhook deliveries commit with their response -------------------------------------

def test_deliveries_are_queued_inside_the_responses_transaction(fake):
    from shared.storage import Delivery

    new = make_response("o", "s", "sub-1", {"q1": 4})
    store = open_store(fake.url(), timeout_ms=5000)

    def outbox(written):
        return [Delivery(id=ids.new_id(), org_id="o", webhook_id="w", event="response.created",
                         payload={"response_id": r.id}) for r in written]

    stored, outcome = store.responses.add(new, outbox=outbox)
    assert outcome == CREATED
    inserts = fake.sent("insert", "commitTransaction")
    names = [(next(iter(c)), c.get("insert")) for c in inserts]
    assert names == [("insert", "responses"), ("insert", "deliveries"),
                     ("commitTransaction", None)]
    assert len({c["txnNumber"] for c in inserts}) == 1  # one transaction
    assert inserts[1]["documents"][0]["payload"] == {"response_id": new.response.id}
    store.close()


# -- what pymongo does with the errors a busy replica set returns --------------------------

def test_a_write_conflict_retries_the_whole_transaction_and_commits_with_majority(fake):
    inserts = []

    def answer(name, command):
        if name == "insert" and command["insert"] == "responses":
            inserts.append(command)
            if len(inserts) == 1:  # another transaction holds the document
                return {"ok": 0, "code": 112, "codeName": "WriteConflict",
                        "errmsg": "WriteConflict", "errorLabels": ["TransientTransactionError"]}
        return None

    fake.answer = answer
    store = open_store(fake.url(), timeout_ms=5000)
    _, outcome = store.responses.add(make_response("o", "s", "sub-1", {"q1": 4}))
    assert outcome == CREATED
    assert len(inserts) == 2 and inserts[1]["txnNumber"] > inserts[0]["txnNumber"]
    [commit] = fake.sent("commitTransaction")
    assert commit["writeConcern"]["w"] == "majority"
    assert not fake.sent("update")  # the post wrote no counter document
    store.close()


def test_an_unknown_commit_result_is_committed_again_not_rewritten(fake):
    commits = []

    def answer(name, command):
        if name == "commitTransaction":
            commits.append(command)
            if len(commits) == 1:  # the primary stepped down while committing
                return {"ok": 0, "code": 189, "codeName": "PrimarySteppedDown",
                        "errmsg": "stepped down", "errorLabels": ["UnknownTransactionCommitResult"]}
        return None

    fake.answer = answer
    store = open_store(fake.url(), timeout_ms=5000)
    _, outcome = store.responses.add(make_response("o", "s", "sub-1", {"q1": 4}))
    assert outcome == CREATED
    assert len(fake.sent("insert")) == 1  # the write is not repeated, only its commit
    assert len(commits) == 2 and commits[0]["txnNumber"] == commits[1]["txnNumber"]
    assert commits[1]["writeConcern"]["w"] == "majority"
    store.close()


def test_which_urls_name_a_replica_set():
    from shared.storage.mongo import names_replica_set

    assert names_replica_set("mongodb://a:27017,b:27017/survey?replicaSet=rs0&authSource=admin")
    assert names_replica_set("mongodb+srv://cluster.example.net/survey")
    assert not names_replica_set("mongodb://localhost:27017/survey?directConnection=true")
    assert not names_replica_set("mongodb://localhost:27017/replicaSet")  # a database name
