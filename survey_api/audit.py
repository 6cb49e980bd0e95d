"""The audit log: key creation and revocation, survey state changes, exports and erasures.
Records who (the API key id, or "cli") did what to which record, never content or secrets."""

from __future__ import annotations

from shared import ids
from shared.storage import AuditEvent, Store


def record(store: Store, org_id: str, action: str, actor: str, **target) -> AuditEvent:
    return store.audit.add(AuditEvent(id=ids.new_id(), org_id=org_id, action=action,
                                      actor=actor, target=target))
