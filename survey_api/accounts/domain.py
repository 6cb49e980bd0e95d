"""Organizations and their keys (domain functions over the store; no Flask here)."""

from __future__ import annotations

from shared import ids
from shared.keys import issue_key
from shared.storage import AlreadyExists, ApiKey, Organization, Store, utc_now

from ..audit import record


def create_organization(store: Store, name: str) -> Organization:
    name = name.strip()
    if not name:
        raise ValueError("an organization needs a name")
    if store.organizations.find_by_name(name):
        raise AlreadyExists(f"an organization named {name!r} exists")
    return store.organizations.add(Organization(id=ids.new_id(), name=name, created_at=utc_now()))


def create_key(store: Store, org_id: str, name: str, scopes: list[str],
               actor: str = "cli") -> tuple[ApiKey, str]:
    if store.organizations.get(org_id) is None:
        raise LookupError(f"no organization {org_id}")
    key, plaintext = issue_key(store, org_id, name, scopes)
    record(store, org_id, "key.created", actor, key_id=key.id, scopes=list(key.scopes))
    return key, plaintext


def revoke_key(store: Store, org_id: str, key_id: str, actor: str = "cli") -> ApiKey | None:
    key = store.api_keys.revoke(org_id, key_id, utc_now())
    if key is not None:
        record(store, org_id, "key.revoked", actor, key_id=key.id)
    return key
