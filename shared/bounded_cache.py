"""The one per-process cache of the code base: a dict with a size bound.

Every worker process keeps things it has worked out (compiled validators, pinned instrument
versions, counter names, ...). Keys come from what tenants post, so a cache without a bound is
memory any tenant can fill. When full, the oldest entry goes (insertion order): cheaper than
LRU bookkeeping on the ingest path, and what is evicted is rebuilt on its next use.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._data: dict[Hashable, V] = {}
        self._lock = threading.Lock()
        # Reads are the hot path: the dict's own get, with no lock (a dict read is atomic under
        # the GIL and only put() changes the dict, under the lock).
        self.get = self._data.get

    def __len__(self) -> int:
        return len(self._data)

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            if key not in self._data:
                while len(self._data) >= self.maxsize:
                    del self._data[next(iter(self._data))]
            self._data[key] = value
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The cached value, or make() stored and returned (made outside the lock: two threads
        may both make it once, and either result is right)."""
        found = self._data.get(key)
        if found is None:
            found = self.put(key, make())
        return found

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
