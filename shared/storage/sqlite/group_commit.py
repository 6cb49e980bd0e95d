"""Group commit: writers that arrive together share one transaction.

SQLite lets one writer in at a time, and under synchronous=FULL every commit waits for the disk.
Committing each single-response post on its own, a worker's threads would queue for the write
lock and wait for one fsync after another. Instead the thread that gets the lock writes
everything queued by then in one transaction (one fsync), and each caller gets back its own
results. Nothing is acknowledged before its transaction commits, so durability is that of one
commit per post; only the number of commits is smaller.

The group behaves as if its callers had written one after another in the order they queued: the
work function sees their items concatenated, so a submission id posted twice in one group is
stored once and the later caller is told "duplicate", as it would be if it came a moment later.
If the shared transaction fails, each caller's items are retried in a transaction of their own,
so one caller's bad write never fails the others.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(eq=False)
class _Ticket:
    items: list
    results: list | None = None
    error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.results is not None or self.error is not None


class GroupCommit(Generic[Item, Result]):
    """submit(items) -> one result per item, written by work(conn, items) inside transaction().

    lock is the lock every writer of this process holds around its transaction (the store's
    write lock): whoever holds it writes for everyone queued. transaction() must not take it.
    """

    def __init__(self, lock: threading.Lock,
                 transaction: Callable[[], AbstractContextManager[Any]],
                 work: Callable[[Any, list[Item]], list[Result]]):
        self._lock = lock
        self._transaction = transaction
        self._work = work
        self._queue: list[_Ticket] = []
        self._queue_lock = threading.Lock()

    def submit(self, items: list[Item]) -> list[Result]:
        ticket = _Ticket(list(items))
        with self._queue_lock:
            self._queue.append(ticket)
        with self._lock:
            if not ticket.answered:  # nobody wrote it while we waited: write the queue, ours too
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._write(group)
        if ticket.error is not None:
            raise ticket.error
        return ticket.results  # type: ignore[return-value]

    def _write(self, group: list[_Ticket]) -> None:
        try:
            self._write_together(group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for ticket in group:  # find whose write fails; the others still land
                    self._write([ticket])
        finally:
            for ticket in group:  # an interrupted writer must not leave anyone without an answer
                if not ticket.answered:
                    ticket.error = RuntimeError("The write was interrupted; nothing was stored.")

    def _write_together(self, group: list[_Ticket]) -> None:
        with self._transaction() as conn:
            results = self._work(conn, [item for ticket in group for item in ticket.items])
        start = 0
        for ticket in group:
            ticket.results = results[start:start + len(ticket.items)]
            start += len(ticket.items)
