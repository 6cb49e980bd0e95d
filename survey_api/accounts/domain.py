"""Organizations and their keys (domain functions over the store; no Flask here)."""

from __future__ import annotations

from shared import ids
from shared.auth import issue_key
from shared.storage import AlreadyExists, ApiKey, Organization, Store, utc_now


def create_organization(store: Store, name: str) -> Organization:
    name = name.strip()
    if not name:
        raise ValueError("an organization needs a name")
    if store.organizations.find_by_name(name):
        raise AlreadyExists(f"an organization named {name!r} exists")
    return store.organizations.add(Organization(id=ids.new_id(), name=name, created_at=utc_now()))


def create_key(store: Store, org_id: str, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    if store.organizations.get(org_id) is None:
        raise LookupError(f"no organization {org_id}")
    return issue_key(store, org_id, name, scopes)


def revoke_key(store: Store, org_id: str, key_id: str) -> ApiKey | None:
    return store.api_keys.revoke(org_id, key_id, utc_now())
