"""Group commit (shared/storage/sqlite/group_commit.py): callers that queue while a transaction is
being written share the next one, and each still gets exactly its own results.

The transaction here is a small in-memory journal that keeps a group's writes only if the
group's work finishes, like a database transaction; the store-level behaviour is covered on
SQLite below and in the storage contract tests."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from shared.storage import CREATED, DUPLICATE, open_store
from shared.storage.sqlite.group_commit import GroupCommit

from tests.support.helpers import wait_until
from tests.shared.test_storage_contract import make_org, make_response, make_survey


class Journal:
    """Committed items, and every group the work function was given."""

    def __init__(self, *, hold_first: threading.Event | None = None):
        self.lock = threading.Lock()
        self.committed: list = []
        self.groups: list[list] = []
        self.hold_first = hold_first

    @contextmanager
    def transaction(self):
        pending: list = []
        yield pending
        self.committed.extend(pending)  # reached only if the work did not raise

    def work(self, pending: list, items: list) -> list:
        self.groups.append(list(items))
        if self.hold_first is not None and len(self.groups) == 1:
            self.hold_first.wait(timeout=10)
        if "bad" in items:
            raise ValueError("bad item")
        pending.extend(items)
        return [f"stored {item}" for item in items]


def test_one_caller_at_a_time_gets_its_own_results():
    journal = Journal()
    group = GroupCommit(journal.lock, journal.transaction, journal.work)
    assert group.submit(["a", "b"]) == ["stored a", "stored b"]
    assert group.submit(["c"]) == ["stored c"]
    assert journal.groups == [["a", "b"], ["c"]]
    assert journal.committed == ["a", "b", "c"]


def run_callers(group: GroupCommit, journal: Journal, first: list, others: list[list]):
    """The first caller's write is held open until all the others have queued behind it."""
    answers: dict[int, object] = {}

    def call(index: int, items: list):
        try:
            answers[index] = group.submit(items)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each caller got
            answers[index] = exc

    leader = threading.Thread(target=call, args=(0, first))
    leader.start()
    wait_until(lambda: len(journal.groups) == 1)
    followers = [threading.Thread(target=call, args=(i + 1, items))
                 for i, items in enumerate(others)]
    for thread in followers:
        thread.start()
    wait_until(lambda: len(group._queue) == len(others))
    journal.hold_first.set()
    for thread in (leader, *followers):
        thread.join(timeout=10)
    return answers


def test_callers_that_queue_together_share_one_transaction():
    journal = Journal(hold_first=threading.Event())
    group = GroupCommit(journal.lock, journal.transaction, journal.work)
    others = [[f"x{i}", f"y{i}"] for i in range(6)]
    answers = run_callers(group, journal, ["first"], others)
    # Two transactions for seven callers: the first alone, then the six that queued meanwhile.
    assert len(journal.groups) == 2
    assert sorted(journal.groups[1]) == sorted(item for items in others for item in items)
    assert answers[0] == ["stored first"]
    for index, items in enumerate(others, start=1):
        assert answers[index] == [f"stored {item}" for item in items]
    assert sorted(journal.committed) == sorted(["first", *(i for it in others for i in it)])


def test_a_failing_caller_does_not_fail_the_others_in_its_group():
    journal = Journal(hold_first=threading.Event())
    group = GroupCommit(journal.lock, journal.transaction, journal.work)
    others = [["p"], ["bad", "q"], ["r"]]
    answers = run_callers(group, journal, ["first"], others)
    assert answers[1] == ["stored p"] and answers[3] == ["stored r"]
    assert isinstance(answers[2], ValueError)
    # The shared attempt was rolled back; each caller was then written on its own.
    assert sorted(journal.committed) == ["first", "p", "r"]
    assert "q" not in journal.committed


def test_an_interrupted_writer_leaves_no_caller_without_an_answer():
    class Stop(BaseException):
        pass

    journal = Journal(hold_first=threading.Event())

    def work(pending, items):
        journal.work(pending, items)
        if len(journal.groups) == 2:
            raise Stop()  # e.g. the worker is being killed while writing a group
        return [f"stored {item}" for item in items]

    group = GroupCommit(journal.lock, journal.transaction, work)
    answers: dict[str, object] = {}

    def call(name):
        try:
            answers[name] = group.submit([name])
        except Stop:
            answers[name] = "interrupted here"
        except RuntimeError as exc:
            answers[name] = str(exc)

    threads = {name: threading.Thread(target=call, args=(name,)) for name in "abc"}
    threads["a"].start()
    wait_until(lambda: len(journal.groups) == 1)
    threads["b"].start()
    threads["c"].start()
    wait_until(lambda: len(group._queue) == 2)
    journal.hold_first.set()
    for thread in threads.values():
        thread.join(timeout=10)
    assert answers["a"] == ["stored a"]
    outcomes = sorted(str(answers[name]) for name in "bc")
    assert outcomes[0].startswith("The write was interrupted") and outcomes[1] == "interrupted here"
    assert journal.committed == ["a"]


def test_concurrent_single_posts_on_sqlite_are_each_stored_once(tmp_path):
    threads = 16
    store = open_store(f"sqlite:///{tmp_path / 'group.db'}")
    try:
        org = make_org(store, "A")
        survey = make_survey(store, org.id)
        # Every submission is posted by two threads at once: one is stored, one is a duplicate.
        news = [make_response(org.id, survey.id, f"s{i % (threads // 2)}", {"q": 1})
                for i in range(threads)]
        start = threading.Barrier(threads)
        outcomes: list[str] = []

        def post(new):
            start.wait()
            (_, outcome), = store.responses.add_many([new])
            outcomes.append(outcome)

        workers = [threading.Thread(target=post, args=(new,)) for new in news]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        assert sorted(outcomes) == sorted([CREATED] * (threads // 2) + [DUPLICATE] * (threads // 2))
        assert store.responses.count(survey.id) == threads // 2
        assert store.aggregates.for_survey(survey.id)["tenure=new"]["n"] == threads // 2
    finally:
        store.close()
