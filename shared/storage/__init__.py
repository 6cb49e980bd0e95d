"""Storage: the repository interface and its two backends. Use `open_store(url)`."""

from __future__ import annotations

from .interface import (
    CONFLICT, CREATED, DUPLICATE, UPDATED, AlreadyExists, Store, StorageError,
)
from .codec import canonical_bytes  # noqa: F401
from .models import (  # noqa: F401  (re-exported for the services)
    ApiKey, AuditEvent, Brief, ConsoleUser, OutboxMail, Delivery, Instrument, Invitation, NewResponse, Organization, Page, Response, Survey,
    Webhook, to_timestamp, utc_now,
)


def open_store(url: str) -> Store:
    """sqlite:///relative/or//absolute/path, mongodb://host/db, or mongomock://test/db (tests)."""
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteStore

        return SqliteStore(url[len("sqlite:///"):])
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from .mongo import MongoStore

        store = MongoStore(url)
        store.ensure_indexes()
        return store
    if url.startswith("mongomock://"):
        import mongomock_ng

        from .mongo import MongoStore

        client = mongomock_ng.MongoClient()
        store = MongoStore("mongodb://" + url[len("mongomock://"):], client_factory=lambda: client)
        store.ensure_indexes()
        return store
    raise ValueError(f"unsupported store URL: {url!r}")


__all__ = ["open_store", "Store", "StorageError", "AlreadyExists", "CREATED", "DUPLICATE",
           "CONFLICT", "UPDATED"]
