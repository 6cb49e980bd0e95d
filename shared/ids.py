"""Identifiers and secrets.

Ids sort by creation time: 48 bits of milliseconds, then 80 random bits, as 32 hex digits (the
layout of a ULID; hex because it sorts as text and formats in one step). Within one process ids
are strictly increasing (a second id in the same millisecond adds
one to the random part), so "after this id" is a stable cursor on every backend and listing by
id lists in creation order, without a separate sequence.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time

# What new_id() makes: the ids of organizations, surveys, briefs, ... A path or body naming
# one of them is checked against this before it goes anywhere (a URL, a query).
ID_PATTERN = r"^[0-9a-f]{32}$"

_lock = threading.Lock()
_last = 0
# The random parts come from the OS in blocks: one os.urandom call per id was a system call
# (and a hand-over of the GIL) on every request and every stored response.
_RANDOM_BYTES = 10
_BLOCK_IDS = 256
_pool = b""
_pool_at = 0


def _after_fork_in_child() -> None:
    """A forked child must never reuse its parent's random bytes, nor count on from its
    parent's last id: both would make the ids the two processes make in one millisecond equal."""
    global _pool, _pool_at, _last
    _pool, _pool_at, _last = b"", 0, 0


os.register_at_fork(after_in_child=_after_fork_in_child)


def new_id() -> str:
    global _last, _pool, _pool_at
    with _lock:
        if _pool_at >= len(_pool):
            _pool, _pool_at = os.urandom(_RANDOM_BYTES * _BLOCK_IDS), 0
        random_part = _pool[_pool_at:_pool_at + _RANDOM_BYTES]
        _pool_at += _RANDOM_BYTES
        value = (int(time.time() * 1000) << 80) | int.from_bytes(random_part, "big")
        if value <= _last:
            value = _last + 1
        _last = value
    return f"{value:032x}"


def new_token(nbytes: int = 24) -> str:
    """An unguessable URL-safe secret (192 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """Hash of an API key or link token. They carry 192 random bits, so a fast hash is enough:
    there is nothing to brute-force, and lookups stay O(1) by hash."""
    return hashlib.sha256(secret.encode()).hexdigest()
