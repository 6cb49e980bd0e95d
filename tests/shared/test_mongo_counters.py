"""MongoDB counts responses outside their transaction: stored pending, folded into the cell
counters in a separate, idempotent step. Here (mongomock-ng, no transactions, so each step of a
fold is on its own, as after a crash on any server) a fold is killed between every two steps,
and the report must stay exact and a re-run fold must not count anything twice.

Expected counts are worked out from the answers alone, never from the store."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from shared.storage import open_store
from shared.storage.mongo import FOLD_LEASE
from shared.storage.mongo.responses import _Aggregates
from tests.shared.test_storage_contract import make_org, make_response, make_survey

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
LATER = NOW + FOLD_LEASE + timedelta(seconds=1)  # the first folder's lease has run out


class Killed(Exception):
    """The folder process dies here."""


@pytest.fixture
def store():
    s = open_store(f"mongomock://localhost/fold_{uuid.uuid4().hex[:8]}")
    s.initialize()
    yield s
    s.close()


def _post(store, n=40, seed=7):
    """n complete responses over three cells, plus a draft that must never count."""
    rng = random.Random(seed)
    org = make_org(store)
    survey = make_survey(store, org.id)
    expected: dict[str, Counter] = {}
    batch = []
    for i in range(n):
        cell = rng.choice(["tenure=new", "tenure=long_standing", "tenure=lapsed"])
        answers = {"q1": rng.randint(1, 5), "q2": rng.choice(["yes", "no"])}
        batch.append(make_response(org.id, survey.id, f"sub-{i}", answers, cell=cell))
        expected.setdefault(cell, Counter()).update(
            ["n", f"q1={answers['q1']}", f"q2={answers['q2']}"])
    store.responses.add_many(batch)
    store.responses.add(make_response(org.id, survey.id, "draft", {"q1": 1}, complete=False))
    return survey, {cell: dict(c) for cell, c in expected.items()}


def _stored_cells(store, survey_id) -> dict:
    """What the cell documents alone hold (no pending responses added)."""
    return {d["cell_key"]: {k: v for k, v in d["counts"].items() if v}
            for d in store.db.aggregates.find({"survey_id": survey_id})}


def _pending(store, survey_id) -> int:
    return store.db.responses.count_documents({"survey_id": survey_id, "pending": True})


def test_posting_writes_no_counter_document_and_reports_count_pending_responses(store):
    survey, expected = _post(store)
    assert store.db.aggregates.count_documents({}) == 0  # no post touched a cell document
    assert _pending(store, survey.id) == 40
    assert store.aggregates.for_survey(survey.id) == expected
    assert store.aggregates.fold_pending(now=NOW) == 40
    assert _stored_cells(store, survey.id) == expected
    assert _pending(store, survey.id) == 0
    assert store.aggregates.for_survey(survey.id) == expected
    assert store.aggregates.fold_pending(now=NOW) == 0  # nothing left: a no-op


def test_folding_in_small_batches_counts_each_response_once(store):
    survey, expected = _post(store, n=25)
    assert store.aggregates.fold_pending(survey.id, limit=4, now=NOW) == 25
    assert _stored_cells(store, survey.id) == expected


def _kill_in(monkeypatch, step: str, after_calls: int = 0):
    """Let `step` run after_calls times, then kill the folder on its next call."""
    original = getattr(_Aggregates, step)
    calls = []

    def dying(self, *args, **kwargs):
        if len(calls) >= after_calls:
            raise Killed(step)
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_Aggregates, step, dying)


@pytest.mark.parametrize("step, after_calls", [
    ("_apply", 0),    # claimed, no cell counted
    ("_apply", 1),    # one cell counted, the others not
    ("_apply", 2),    # two of three cells counted
    ("_clear", 0),    # every cell counted, the responses still pending
    ("_release", 0),  # responses cleared, the fold id left in the cells
])
def test_a_fold_killed_between_steps_leaves_reports_exact_and_a_rerun_counts_once(
        store, monkeypatch, step, after_calls):
    survey, expected = _post(store)
    _kill_in(monkeypatch, step, after_calls)
    with pytest.raises(Killed):
        store.aggregates.fold_pending(now=NOW)
    monkeypatch.undo()
    assert store.aggregates.for_survey(survey.id) == expected  # exact while it lies there

    # Before the lease runs out nobody takes the dead fold over; the report stays exact.
    store.aggregates.fold_pending(now=NOW)
    assert store.aggregates.for_survey(survey.id) == expected

    store.aggregates.fold_pending(now=LATER)  # a folder takes over and finishes it
    assert _pending(store, survey.id) == 0
    assert _stored_cells(store, survey.id) == expected  # nothing counted twice, nothing lost
    assert store.aggregates.for_survey(survey.id) == expected
    assert store.aggregates.fold_pending(now=LATER + FOLD_LEASE * 2) == 0
    assert _stored_cells(store, survey.id) == expected


def test_the_same_fold_replayed_adds_nothing(store):
    """Step 2 itself is guarded: a second folder replaying a fold's increments is a no-op."""
    survey, expected = _post(store, n=10)
    aggregates = store.aggregates
    fold_id = aggregates._claim(survey.id, 100, NOW, None)
    docs = list(store.db.responses.find({"fold.id": fold_id}))
    sums: dict[str, Counter] = {}
    for d in docs:
        sums.setdefault(d["cell_key"], Counter()).update(d["counters"])
    for _ in range(3):
        for cell, counts in sums.items():
            aggregates._apply(survey.id, cell, counts, fold_id, None)
    assert _stored_cells(store, survey.id) == expected
    assert store.aggregates.for_survey(survey.id) == expected


def test_erasing_pending_claimed_and_folded_responses_keeps_reports_exact(store, monkeypatch):
    survey, expected = _post(store, n=12, seed=3)

    def erase(submission_id):
        gone = store.responses.erase(survey.id, submission_id,
                                     lambda r: ["n", *[f"{q}={v}" for q, v in r.answers.items()]])
        counts = expected[gone.cell_key]
        for name in ["n", *[f"{q}={v}" for q, v in gone.answers.items()]]:
            counts[name] -= 1
        return gone

    def shown():
        return {c: {k: v for k, v in counts.items() if v > 0} for c, counts in expected.items()
                if any(v > 0 for v in counts.values())}

    erase("sub-0")  # still pending: never counted, nothing to take back
    assert store.aggregates.for_survey(survey.id) == shown()
    _kill_in(monkeypatch, "_clear")  # cells counted, responses still marked with the fold
    with pytest.raises(Killed):
        store.aggregates.fold_pending(now=NOW)
    monkeypatch.undo()
    erase("sub-1")  # claimed and already in its cell: taken back out of the cell
    assert store.aggregates.for_survey(survey.id) == shown()
    store.aggregates.fold_pending(now=LATER)
    erase("sub-2")  # folded
    assert store.aggregates.for_survey(survey.id) == shown()
    assert _stored_cells(store, survey.id) == shown()


def test_a_rebuild_counts_pending_responses_once(store):
    survey, expected = _post(store, n=15)
    store.aggregates.fold_pending(survey.id, limit=5, now=NOW)  # folds all in three batches
    store.responses.add(make_response(survey.org_id, survey.id, "late", {"q1": 2, "q2": "no"}))
    expected["tenure=new"] = dict(Counter(expected.get("tenure=new", {}))
                                  + Counter(["n", "q1=2", "q2=no"]))
    store.aggregates.replace_survey(survey.id, expected)  # what a rebuild writes
    assert _pending(store, survey.id) == 0  # the recount included the pending one
    assert store.aggregates.for_survey(survey.id) == expected
    assert store.aggregates.fold_pending(now=LATER) == 0
