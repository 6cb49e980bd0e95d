"""Rate limits shared by the three services, counted by the `limits` library.

Requests are counted per valid API key (its id) or, without one, per client address: a key that
is unknown or revoked counts against the address, so random bearer tokens buy no budget. The
client address is the peer's, or with TRUSTED_PROXY_HOPS the one the trusted proxies name
(werkzeug's ProxyFix, installed by shared.web). Counts are kept
in fixed windows: API_RATE_LIMIT over all of a service's routes but the probes and docs, and a
route may add a tighter limit of its own (the anonymous survey link does). Past a limit the
answer is 429 with Retry-After; every limited answer carries X-RateLimit-Limit and -Remaining.

Counts live in RATELIMIT_STORAGE_URI. memory:// keeps them in each process (so with N gunicorn
workers the real limit is up to N times the setting); redis:// or mongodb:// share them.

Why not Flask-Limiter: it resolves every route's limits, scopes and exemptions again on each
request, and the in-memory storage underneath starts a new timer thread every 10 ms under load,
together about a fifth of a single POST (bench/bench_http.py). The counting is the `limits`
library's; this module is only the Flask glue around it.
"""

from __future__ import annotations

import math
import threading
import time

from flask import Flask, current_app, g, request
from flask_smorest import abort
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .auth import lookup_key, presented_key, valid_service_token
from .extensions import get_store

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/docs", "/openapi.json", "/static/")
API_SCOPE = "api"  # the service-wide budget; a route's own limit is scoped by its endpoint
COUNTED = "shared.ratelimit.counted"  # see RateLimits.check


def rate_limit_key() -> str:
    settings = current_app.config["SETTINGS"]
    if valid_service_token(settings.service_token):
        return "service"
    plaintext = presented_key() if request.path.startswith("/v1/") else None
    if plaintext:
        key = lookup_key(get_store(), plaintext)
        if key is not None and key.active:
            return key_subject(key)
    return "addr:" + (request.remote_addr or "unknown")


def key_subject(key) -> str:
    """What a valid key's requests are counted under."""
    return "key:" + key.id


def exempt() -> bool:
    return request.path.startswith(EXEMPT_PREFIXES)


class ProcessCounts(Storage):
    """Fixed-window counts in this process's memory, for memory://.

    limits' own MemoryStorage expires keys from a timer thread that it starts again whenever
    the last one has finished (every 10 ms under load), and each start made a request wait for
    the new thread to be scheduled. Here a window that has ended simply counts as empty, and
    ended windows are swept out at most once a minute, by whichever request comes along.
    """

    STORAGE_SCHEME = None  # not registered with limits: only RateLimits picks it
    SWEEP_SECONDS = 60

    def __init__(self):
        super().__init__()
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._lock = threading.Lock()
        self._next_sweep = time.time() + self.SWEEP_SECONDS

    @property
    def base_exceptions(self):
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._windows[key] = (count, ends)
            if now >= self._next_sweep:
                self._sweep(now)
        return count

    def get(self, key: str) -> int:
        count, ends = self._windows.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        _, ends = self._windows.get(key, (0, 0.0))
        return max(ends, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._windows)
            self._windows.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        self._next_sweep = now + self.SWEEP_SECONDS


def open_counts(uri: str) -> Storage:
    return ProcessCounts() if uri.startswith("memory://") else storage_from_string(uri)


class RateLimits:
    """The app's limits: one default for every route, plus tighter ones for named endpoints."""

    def __init__(self, app: Flask, default: str, storage_uri: str):
        self.default = parse(default)
        self.by_endpoint: dict[str, RateLimitItem] = {}
        self.counts = open_counts(storage_uri)
        self.window = FixedWindowRateLimiter(self.counts)
        app.extensions["rate_limits"] = self
        app.before_request(self.check)
        app.after_request(self.add_headers)

    def limit(self, endpoint: str, limit: str) -> None:
        """A tighter limit on one endpoint, counted separately from (and as well as) the
        default."""
        self.by_endpoint[endpoint] = parse(limit)

    def count_default(self, who: str) -> tuple[RateLimitItem, int]:
        """Count one request against the service-wide limit; (the limit, the count so far).
        FixedWindowRateLimiter.hit's own increment, keeping the count: X-RateLimit-Remaining
        is read from it instead of from a second lookup."""
        item = self.default
        return item, self.counts.incr(item.key_for(API_SCOPE, who), item.get_expiry())

    def has_own_limit(self, endpoint: str) -> bool:
        return endpoint in self.by_endpoint

    def check(self) -> None:
        if exempt():
            return
        who = rate_limit_key()
        # A layer in front of Flask (survey_api's single-post fast path) that counted this
        # request already leaves the count in the environ: a request is counted once.
        counted = request.environ.get(COUNTED)
        limits = [(API_SCOPE, self.default)]
        if request.endpoint in self.by_endpoint:
            limits.append((request.endpoint, self.by_endpoint[request.endpoint]))
        for scope, item in limits:
            if scope == API_SCOPE:
                count = counted if counted is not None else self.count_default(who)[1]
            else:
                count = self.counts.incr(item.key_for(scope, who), item.get_expiry())
            if count > item.amount:
                reset, _ = self.window.get_window_stats(item, scope, who)
                retry_after = max(1, math.ceil(reset - time.time()))
                abort(429, message=f"Rate limit exceeded: {item}. Retry in {retry_after} s.",
                      headers={"Retry-After": str(retry_after),
                               "X-RateLimit-Limit": str(item.amount),
                               "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": str(math.ceil(reset))})
        g.rate_limit = (item, count)  # headers tell the route's own limit if it has one

    def add_headers(self, response):
        counted = g.get("rate_limit")
        if counted is not None and response.status_code != 429:
            for name, value in limit_headers(*counted):
                response.headers[name] = value
        return response


def limit_headers(item: RateLimitItem, count: int) -> list[tuple[str, str]]:
    """What every counted answer but a 429 tells about the limit."""
    return [("X-RateLimit-Limit", str(item.amount)),
            ("X-RateLimit-Remaining", str(max(0, item.amount - count)))]


def rate_limits_of(app: Flask) -> RateLimits:
    return app.extensions["rate_limits"]
