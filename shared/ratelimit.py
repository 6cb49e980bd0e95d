"""Rate limits shared by the three services (Flask-Limiter).

Requests are counted per API key (its hash, never the key) or, without one, per client
address. Every route gets API_RATE_LIMIT; the probes and the docs are exempt. Counts live in
RATELIMIT_STORAGE_URI: memory:// keeps them per process (so with N gunicorn workers the real
limit is up to N times the setting); point it at redis:// or mongodb:// to share them.
"""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import ids
from .auth import presented_key

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/docs", "/openapi.json", "/static/")


def rate_limit_key() -> str:
    key = presented_key()
    if key:
        return "key:" + ids.hash_secret(key)[:32]
    return "addr:" + (get_remote_address() or "unknown")


def exempt() -> bool:
    return request.path.startswith(EXEMPT_PREFIXES)


def make_limiter() -> Limiter:
    limiter = Limiter(key_func=rate_limit_key)
    # A request filter is checked before Flask-Limiter resolves any limit (an exemption
    # condition only after): the probes then cost a third less.
    limiter.request_filter(exempt)
    return limiter


def limiter_of(app) -> Limiter:
    """The Limiter create_service_app bound to this app (Flask-Limiter keeps a set of them)."""
    return next(iter(app.extensions["limiter"]))
