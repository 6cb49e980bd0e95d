"""The console's repositories (users, mail outbox): one contract on every backend, with the
same store fixtures as tests/shared/test_storage_contract.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared import ids
from shared.storage import AlreadyExists, ConsoleUser, OutboxMail, utc_now

from tests.shared.test_storage_contract import backend, make_org, store  # noqa: F401  (fixtures)


def make_user(store, org_id, email="lead@acme.example", role="admin") -> ConsoleUser:
    return store.console_users.add(ConsoleUser(
        id=ids.new_id(), org_id=org_id, email=email, name="Lead", role=role,
        password_hash="scrypt:fake"))


def make_mail(org_id, survey_id="s1", due=None, to="a@example.com") -> OutboxMail:
    mail = OutboxMail(id=ids.new_id(), org_id=org_id, to=to, subject="Hello", body="Body",
                      kind="invitation", survey_id=survey_id, headers={"X-Test": "1"})
    return replace(mail, next_attempt_at=due) if due else mail


def test_console_users_by_id_email_and_organization(store):
    acme, globex = make_org(store, "Acme"), make_org(store, "Globex")
    lead = make_user(store, acme.id)
    make_user(store, globex.id, email="other@globex.example")
    assert store.console_users.get(lead.id) == lead
    assert store.console_users.find_by_email("lead@acme.example") == lead
    assert store.console_users.find_by_email("nobody@acme.example") is None
    assert [u.id for u in store.console_users.list(acme.id)] == [lead.id]


def test_a_console_email_is_unique_across_organizations(store):
    acme, globex = make_org(store, "Acme"), make_org(store, "Globex")
    make_user(store, acme.id)
    with pytest.raises(AlreadyExists):
        make_user(store, globex.id)


def test_console_user_updates_keep_tuples_and_stamp(store):
    lead = make_user(store, make_org(store).id)
    when = utc_now()
    updated = store.console_users.update(lead.id, {"failed_logins": (when, when),
                                                   "locked_until": when})
    assert updated.failed_logins == (when, when) and updated.locked_until == when
    assert store.console_users.get(lead.id) == updated
    assert updated.updated_at >= lead.updated_at
    assert store.console_users.update("missing", {"name": "x"}) is None


def test_outbox_claims_each_due_mail_once_and_never_a_sent_one(store):
    org = make_org(store)
    now = utc_now()
    due = [make_mail(org.id, to=f"p{i}@example.com") for i in range(3)]
    later = make_mail(org.id, due="9999-01-01T00:00:00.000000Z")
    store.outbox.add_many([*due, later])
    claimed = store.outbox.claim_due(now="9000-01-01T00:00:00.000000Z",
                                     lease_until="9000-01-01T00:01:00.000000Z", limit=2)
    assert len(claimed) == 2 and all(m.next_attempt_at.startswith("9000-01-01T00:01")
                                     for m in claimed)
    rest = store.outbox.claim_due(now="9000-01-01T00:00:00.000000Z",
                                  lease_until="9000-01-01T00:01:00.000000Z")
    assert len(rest) == 1
    assert {m.id for m in claimed + rest} == {m.id for m in due}
    sent = store.outbox.update(claimed[0].id, {"status": "sent", "sent_at": now, "attempts": 1})
    assert sent.status == "sent" and sent.headers == {"X-Test": "1"}
    # A sent mail is never claimed again, even long after its lease.
    again = store.outbox.claim_due(now="9500-01-01T00:00:00.000000Z",
                                   lease_until="9500-01-01T00:01:00.000000Z")
    assert {m.id for m in again} == {m.id for m in due} - {claimed[0].id}


def test_outbox_lists_newest_first_per_organization_and_survey(store):
    acme, globex = make_org(store, "Acme"), make_org(store, "Globex")
    first, second = make_mail(acme.id, "s1"), make_mail(acme.id, "s2")
    store.outbox.add_many([first])
    store.outbox.add_many([second, make_mail(globex.id, "s1")])
    assert [m.id for m in store.outbox.list(acme.id)] == [second.id, first.id]
    assert [m.id for m in store.outbox.list(acme.id, "s1")] == [first.id]
