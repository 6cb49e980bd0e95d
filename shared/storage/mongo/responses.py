"""MongoDB responses and their per-cell counters.

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
it is exact between any two steps (tests/shared/test_mongo_wire.py kills a fold between them). On a
replica set the four steps also run in one transaction (one folder's transaction, never a
post's), so readers see a fold whole and a lease taken over from a live folder cannot double
count.

The response's transaction still holds the response, a replaced draft, and its webhook
deliveries (an outbox: a crash after the commit loses no event). A DuplicateKey error there
(a concurrent writer won the race for the submission id) aborts the transaction: it is
restarted at once, and the restarted plan finds the winner.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.read_concern import ReadConcern

from ... import ids
from ..batch import CONFLICT, DUPLICATE, group_answers, outcome_of_adding, plan_batch
from ..interface import AggregateRepository, ResponseRepository
from ..models import NewResponse, Response, to_timestamp
from .records import RepositoryOnStore
from .schema import from_mongo, survey_filter, to_mongo, shard_prefix

# A fold claimed longer ago than this is taken over: its folder is presumed dead.
FOLD_LEASE = timedelta(minutes=5)
FOLD_BATCH = 2000


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


def _response_doc(new: NewResponse) -> dict:
    r = new.response
    doc = to_mongo(r)
    doc["sk"] = shard_prefix(r.survey_id)
    if r.complete:  # counted later by fold_pending; a draft is never counted
        doc["pending"] = True
        doc["counters"] = list(new.counters)
    return doc


def _cell_id(survey_id: str, cell: str) -> str:
    return f"{survey_id}|{cell}"


class _Responses(RepositoryOnStore, ResponseRepository):
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
                {**survey_filter(r.survey_id), "submission_id": r.submission_id,
                 "_id": r.id, "complete": False}, _response_doc(final[p]), session=session)
            if done.matched_count:
                written.append(final[p])
            else:  # completed by someone else meanwhile
                self._lost_race(results, batch, p, final, session)
        if outbox is not None:
            deliveries = outbox([n.response for n in written if n.response.complete])
            if deliveries:
                db.deliveries.insert_many([to_mongo(d) for d in deliveries], session=session)
        return results

    def _lost_race(self, results, batch, position, final, session) -> None:
        r = batch[position].response
        winner = from_mongo(Response, self.store.db.responses.find_one(
            {**survey_filter(r.survey_id), "submission_id": r.submission_id},
            session=session))
        outcome = outcome_of_adding(winner, r)
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
                    {**survey_filter(survey_id), "submission_id": {"$in": sorted(submissions)}},
                    session=session):
                r = from_mongo(Response, doc)
                found[(r.survey_id, r.submission_id)] = r
        return found

    def get(self, org_id, response_id, survey_id=None):
        # Given the survey, the read goes to the one shard holding it instead of all of them.
        query = {"_id": response_id, "org_id": org_id}
        if survey_id is not None:
            query.update(survey_filter(survey_id))
        return from_mongo(Response, self.store.db.responses.find_one(query))

    def find_by_submission(self, survey_id, submission_id):
        return from_mongo(Response, self.store.db.responses.find_one(
            {**survey_filter(survey_id), "submission_id": submission_id}))

    def list(self, org_id, survey_id, *, after=None, limit=100, filters=None):
        query: dict = {"org_id": org_id, **survey_filter(survey_id)}
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
        query = survey_filter(survey_id)
        if instrument:
            query["instrument"] = instrument
        last = None
        while True:
            page = query if last is None else {**query, "_id": {"$gt": last}}
            docs = list(self.store.db.responses.find(page).sort("_id", ASCENDING)
                        .limit(batch_size))
            for doc in docs:
                yield from_mongo(Response, doc)
            if len(docs) < batch_size:
                return
            last = docs[-1]["_id"]

    def first_answers(self, survey_id, instrument, questions, limit):
        query = {**survey_filter(survey_id), "instrument": instrument}
        fields = {"cell_key": 1, "complete": 1, **{f"answers.{q}": 1 for q in questions}}
        return group_answers(
            (doc["cell_key"], doc.get("complete", True),
             {q: v for q, v in (doc.get("answers") or {}).items() if v is not None})
            for doc in self.store.db.responses.find(query, fields).sort("_id", ASCENDING)
            .limit(limit))

    def count(self, survey_id):
        return self.store.db.responses.count_documents(survey_filter(survey_id))

    def erase(self, survey_id, submission_id, counters_of):
        def work(session):
            doc = self.store.db.responses.find_one_and_delete(
                {**survey_filter(survey_id), "submission_id": submission_id}, session=session)
            if doc is None:
                return None
            response = from_mongo(Response, doc)
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


class _Aggregates(RepositoryOnStore, AggregateRepository):
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
        for doc in self.store.db.aggregates.find(survey_filter(survey_id), session=session):
            cells[doc["cell_key"]] = Counter(
                {_unescape(k): v for k, v in doc.get("counts", {}).items()})
            if doc.get("folds"):
                in_flight.append({"cell_key": doc["cell_key"], "fold.id": {"$in": doc["folds"]}})
        match = {**survey_filter(survey_id), "pending": True}
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
        docs = list(db.responses.find({**survey_filter(survey_id), "fold.id": fold_id},
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
            {**survey_filter(survey_id), "pending": True,
             "fold.at": {"$lt": to_timestamp(now - FOLD_LEASE)}}, {"fold": 1}, session=session)
        if stale is not None:
            return stale["fold"]["id"]
        waiting = [d["_id"] for d in db.responses.find(
            {**survey_filter(survey_id), "pending": True, "fold": None}, {"_id": 1},
            session=session).sort("_id", ASCENDING).limit(limit)]
        if not waiting:
            return None
        fold_id = ids.new_id()
        db.responses.update_many(
            {**survey_filter(survey_id), "_id": {"$in": waiting}, "pending": True, "fold": None},
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
            {**survey_filter(survey_id), "fold.id": fold_id},
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
            db.aggregates.delete_many(survey_filter(survey_id), session=session)
            docs = [{"_id": _cell_id(survey_id, cell), "sk": shard_prefix(survey_id),
                     "survey_id": survey_id, "cell_key": cell, "folds": [],
                     "counts": {_escape(k): v for k, v in counters.items()}}
                    for cell, counters in cells.items()]
            if docs:
                db.aggregates.insert_many(docs, session=session)
            # The recount included every stored response: none is pending any more.
            db.responses.update_many({**survey_filter(survey_id), "pending": True},
                                     {"$unset": {"pending": "", "fold": "", "counters": ""}},
                                     session=session)
        self.store.run_transaction(work)

