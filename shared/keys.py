"""API keys: their scopes, and issuing one. No Flask here: the CLI, the console and the API
issue keys alike (the request side is shared.auth).

A key is shown once when issued; only its SHA-256 is stored. Scopes: `admin` (everything),
`ingest` (post responses and invitations), `read` (read data, reports, briefs), `briefs`
(render, share, e-mail, revoke and delete briefs: they send data out of the product, which
reading alone must not).
"""

from __future__ import annotations

from . import ids
from .storage import ApiKey, Store, utc_now

SCOPES = ("admin", "ingest", "read", "briefs")
KEY_PREFIX = "bk_"


def issue_key(store: Store, org_id: str, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key; returns the record and the plaintext, which is never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be a non-empty subset of {SCOPES}, got {scopes}")
    plaintext = KEY_PREFIX + ids.new_token(24)
    key = ApiKey(id=ids.new_id(), org_id=org_id, name=name, scopes=tuple(sorted(set(scopes))),
                 key_hash=ids.hash_secret(plaintext), prefix=plaintext[:10],
                 created_at=utc_now())
    store.api_keys.add(key)
    return key, plaintext


def grants(key: ApiKey, scope: str) -> bool:
    return "admin" in key.scopes or scope in key.scopes
