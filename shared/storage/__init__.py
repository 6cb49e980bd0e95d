"""Storage: the repository interface and its two backends. Use `open_store(url)`."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .batch import CONFLICT, CREATED, DUPLICATE, UPDATED
from .interface import AlreadyExists, Store, StorageError
from .codec import canonical_bytes  # noqa: F401
from .models import (  # noqa: F401  (re-exported for the services)
    ApiKey, AuditEvent, Brief, ConsoleUser, OutboxMail, Delivery, Instrument, Invitation, NewResponse, Organization, Page, Response, Survey,
    Webhook, to_timestamp, utc_now,
)


# A relative SQLite path is relative to the project directory (where the Makefile and Procfile
# are), not to wherever a command runs: `make run`, the services and a `flask --app survey_api`
# command typed in another directory all open the same file.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def sqlite_path(url: str) -> str:
    path = url[len("sqlite:///"):]
    if path == ":memory:" or Path(path).is_absolute():
        return path
    return str(PROJECT_ROOT / path)


def shown_store_url(url: str) -> str:
    """The store URL as a person should see it: a SQLite file by its absolute path, any
    password replaced by ***."""
    if url.startswith("sqlite:///"):
        return "sqlite:///" + sqlite_path(url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, hosts = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{hosts}"))


_MOCK_SERVERS: dict = {}  # tests only: mongomock:// URLs


def open_store(url: str, *, timeout_ms: int | None = None, production: bool = False) -> Store:
    """sqlite:///relative/or//absolute/path, mongodb://host/db, or mongomock://test/db (tests).

    Nothing is created here: `store.initialize()` (the init-db command) makes collections and
    indexes, and `store.check()` tells a service whether it may start. timeout_ms bounds every
    MongoDB operation; in production a MongoDB URL naming a replica set requires transactions.
    """
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteStore

        return SqliteStore(sqlite_path(url))
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from .mongo import DEFAULT_TIMEOUT_MS, MongoStore, names_replica_set

        return MongoStore(url, timeout_ms=timeout_ms or DEFAULT_TIMEOUT_MS,
                          require_transactions=production and names_replica_set(url))
    if url.startswith("mongomock://"):
        import mongomock_ng

        from .mongo import MongoStore

        from mongomock_ng.store import ServerStore

        # One in-memory server per host, as a real URL reaches one server: what init-db
        # creates there, a service opening the same URL later finds (each with its own client).
        server = _MOCK_SERVERS.setdefault(urlsplit(url).netloc, ServerStore())
        client = mongomock_ng.MongoClient(_store=server)
        return MongoStore("mongodb://" + url[len("mongomock://"):], client_factory=lambda: client)
    raise ValueError(f"unsupported store URL: {url!r}")


def is_unavailable(error: BaseException) -> bool:
    """The store timed out or cannot be reached: a client should retry later (503)."""
    mongo = sys.modules.get(f"{__name__}.mongo")  # loaded only where MongoDB is used
    return mongo is not None and mongo.is_unavailable(error)


__all__ = ["open_store", "shown_store_url", "is_unavailable", "Store", "StorageError", "AlreadyExists", "CREATED",
           "DUPLICATE", "CONFLICT", "UPDATED"]
