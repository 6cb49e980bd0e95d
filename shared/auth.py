"""API keys on a request: the scope check every /v1 route goes through (issuing: shared.keys).

A request names its key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Every
tenant-owned lookup then uses g.org_id, so another organization's ids are simply not found
(404, never 403).
"""

from __future__ import annotations

import hmac
from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint, abort

from . import ids
from .extensions import get_store
from .keys import SCOPES, grants
from .storage import ApiKey, Store, utc_now

SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "An organization API key: `Authorization: Bearer bk_...`"}


def presented_key() -> str | None:
    return key_in(request.headers)


def key_in(headers) -> str | None:
    """The API key a request's headers present (Authorization: Bearer, or X-API-Key)."""
    header = headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return headers.get("X-API-Key") or None


def lookup_key(store: Store, plaintext: str) -> ApiKey | None:
    """The stored key for this plaintext, looked up once per request (the rate limit asks
    before the route authenticates). Kept on the request, not on g: g outlives a request
    when an app context is already pushed (as in tests)."""
    cached = getattr(request, "key_lookup", None)
    if cached is not None and cached[0] == plaintext:
        return cached[1]
    key = find_key(store, plaintext)
    request.key_lookup = (plaintext, key)
    return key


def find_key(store: Store, plaintext: str) -> ApiKey | None:
    """The stored key for this plaintext (keys are stored as hashes), active or not."""
    return store.api_keys.find_by_hash(ids.hash_secret(plaintext))


def valid_service_token(service_token: str) -> bool:
    token = request.headers.get("X-Service-Token")
    return token is not None and hmac.compare_digest(token.encode(), service_token.encode())


def service_caller(store: Store, service_token: str, scope: str) -> ApiKey | None:
    """A call from another of our services: X-Service-Token (the shared SERVICE_TOKEN) on
    behalf of the organization in X-Org-Id, granted the one scope of the route that accepts
    it (the calling service has checked its own user's rights). None if the headers are
    absent."""
    token = request.headers.get("X-Service-Token")
    if token is None:
        return None
    org_id = request.headers.get("X-Org-Id", "")
    if not hmac.compare_digest(token.encode(), service_token.encode()) or \
            store.organizations.get(org_id) is None:
        abort(401, message="The service credential is not valid.")
    return ApiKey(id="service", org_id=org_id, name="service call", scopes=(scope,),
                  key_hash="", prefix="service", created_at=utc_now())


def authenticate(store: Store, scope: str, service_calls: bool = False) -> ApiKey:
    """The request's key if it is valid, active and grants scope; otherwise abort 401/403.
    The service credential counts only where service_calls says a service calls."""
    if not service_calls and "X-Service-Token" in request.headers:
        abort(401, message="The service credential is not accepted on this route.")
    service = service_caller(store, current_app.config["SETTINGS"].service_token, scope) \
        if service_calls else None
    if service is not None:
        return service
    plaintext = presented_key()
    challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
    if not plaintext:
        abort(401, message="An API key is required: send 'Authorization: Bearer <key>'.",
              headers=challenge)
    key = lookup_key(store, plaintext)
    if key is None or not key.active:
        abort(401, message="The API key is not valid or has been revoked.", headers=challenge)
    if not grants(key, scope):
        abort(403, message=f"This API key does not have the '{scope}' scope.")
    return key


def require_scope(scope: str, service_calls: bool = False):
    """Decorator for a view method: authenticate, then set g.org_id and g.api_key.
    service_calls: a route another of our services calls (pdf_service and the console read
    scoring_service's report; the console makes, lists, shares and e-mails briefs) also takes
    the service credential; nothing else does."""
    if scope not in SCOPES:
        raise ValueError(scope)

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            key = authenticate(get_store(), scope, service_calls)
            g.api_key = key
            g.org_id = key.org_id
            return func(*args, **kwargs)

        documented = Blueprint.doc(security=[{"ApiKey": []}])(wrapper)
        documented.required_scope = scope  # read by the tenant-isolation tests
        return documented

    return decorator
