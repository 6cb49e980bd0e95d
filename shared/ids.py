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


def new_id() -> str:
    global _last
    with _lock:
        value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
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
