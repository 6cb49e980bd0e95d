"""The per-process objects a Flask app shares between requests (cookiecutter-flask's
extensions.py): the store, opened on first use.

Flask-aware but free of the app factory, so that auth, rate limits and routes can reach the
store without importing shared.web.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable

from flask import Flask, current_app

from .storage import Store, open_store


def init_store(app: Flask, store_setup: Iterable[Callable[[Store], None]] = ()) -> None:
    """Ready app for get_store(): store_setup runs once on the store when a process opens it."""
    app.extensions["store_lock"] = threading.Lock()
    app.extensions["store_setup"] = list(store_setup)


def get_store() -> Store:
    """The store of this process, made on first use.

    Made lazily so that nothing (a MongoClient above all) is created before gunicorn forks its
    workers; one per process, each backend keeping its own per-thread connections.
    """
    return store_of(current_app._get_current_object())


def store_of(app: Flask) -> Store:
    """get_store() for code that runs outside a Flask context (a WSGI middleware)."""
    store = app.extensions.get("store")
    if store is None:
        with app.extensions["store_lock"]:
            store = app.extensions.get("store")
            if store is None:
                settings = app.config["SETTINGS"]
                store = open_store(settings.store_url, timeout_ms=settings.mongodb_timeout_ms,
                                   production=settings.is_production)
                store.check()
                for prepare in app.extensions["store_setup"]:
                    prepare(store)
                app.extensions["store"] = store
    return store
