"""The report reads the invitation tally, never every invitation: on randomized surveys built
through the API (invitations created, sent, answered, started, revoked, erased), the report is
identical to the one computed from the full invitation list; the rebuild command repairs a
damaged tally."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from scoring_service.domain import survey_report
from shared.extensions import get_store
from shared.storage.codec import attributes_key

from tests.support.factories import builtin, complete_answers


class _ListedInvitations:
    """The invitations repository as the report used it before the tally: its tally is
    counted from every invitation of the survey, read page by page."""

    def __init__(self, store):
        self._store = store

    def tally(self, survey_id):
        survey = self._store.surveys.get_any(survey_id)
        counts, attributes_of, after = Counter(), {}, None
        while True:
            page = self._store.invitations.list(survey.org_id, survey_id, after=after, limit=7)
            for invitation in page.items:
                key = attributes_key(invitation.attributes)
                attributes_of[key] = invitation.attributes
                counts[(key, invitation.status)] += 1
            if not page.next_cursor:
                break
            after = page.next_cursor
        return [(attributes_of[key], status, n) for (key, status), n in counts.items()]


class _StoreReadingEveryInvitation:
    def __init__(self, store):
        self._store = store
        self.invitations = _ListedInvitations(store)

    def __getattr__(self, name):
        return getattr(self._store, name)


def _random_survey(client, tenant, survey: dict, rng: random.Random) -> list[dict]:
    """Invitations in every state; returns them as the API lists them at the end."""
    url = f"/v1/surveys/{survey['id']}"
    h = tenant.headers()
    values = {name: options for name, options in survey["segments"].items()}
    names = sorted(values)
    items = []
    for _ in range(rng.randint(30, 60)):
        chosen = rng.sample(names, rng.randint(0, len(names)))
        items.append({"attributes": {n: rng.choice(values[n]) for n in chosen},
                      "sent": rng.random() < 0.3})
    made = client.post(f"{url}/invitations", json={"invitations": items},
                       headers=h).get_json()["invitations"]
    rng.shuffle(made)
    answered = made[:len(made) // 2]
    responses = [{"submission_id": f"s{i}", "invitation_id": inv["id"],
                  "answers": complete_answers(builtin("how-you-buy"), rng),
                  "complete": rng.random() < 0.85} for i, inv in enumerate(answered)]
    stored = client.post(f"{url}/responses:batch", json={"responses": responses}, headers=h)
    assert stored.status_code in (200, 201, 207), stored.get_json()
    for inv in made[len(made) // 2:]:
        action = rng.choice(["revoke", "sent", None])
        if action:
            assert client.post(f"{url}/invitations/{inv['id']}/{action}",
                               headers=h).status_code in (200, 409)
    for inv in rng.sample(answered, 3):
        client.post(f"{url}/erasures", json={"invitation_id": inv["id"]}, headers=h)
    return client.get(f"{url}/invitations?limit=200", headers=h).get_json()["items"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_report_from_the_tally_equals_the_report_from_every_invitation(
        app, client, tenant, open_survey, seed):
    rng = random.Random(seed)
    listed = _random_survey(client, tenant, open_survey, rng)
    assert {i["status"] for i in listed} >= {"completed", "revoked", "started"}
    with app.app_context():
        store = get_store()
        for weighted in (False, True):
            for segment_by in ([], ["size,region"]):
                from_tally = survey_report(store, tenant.org.id, open_survey["id"], segment_by,
                                           weighted=weighted)
                from_list = survey_report(_StoreReadingEveryInvitation(store), tenant.org.id,
                                          open_survey["id"], segment_by, weighted=weighted)
                del from_tally["generated_at"], from_list["generated_at"]  # the clock's
                assert from_tally == from_list
    block = from_tally["representation"]
    # Counted by hand from the listing (statuses as stored: an expired link still counts).
    assert block["invited"] == sum(1 for i in listed if i["status"] != "revoked")
    assert block["completed"] == sum(1 for i in listed if i["status"] == "completed")
    assert from_tally["weighting"]["applied"]


def test_rebuild_repairs_a_damaged_invitation_tally(app, client, runner, tenant, open_survey):
    _random_survey(client, tenant, open_survey, random.Random(9))
    sid = open_survey["id"]
    with app.app_context():
        store = get_store()
        good = store.invitations.tally(sid)
        damaged = [(attributes, status, n + 2) for attributes, status, n in good[:1]] + good[1:]
        store.invitations.replace_tally(sid, damaged)
    check = runner.invoke(args=["rebuild", sid, "--check"])
    assert check.exit_code != 0 and "1 invitation tally row(s) differed" in check.output
    attributes, status, n = good[0]
    assert f"{attributes} {status}: live {n + 2}, recount {n}" in check.output
    repaired = runner.invoke(args=["rebuild", sid])
    assert repaired.exit_code == 0
    with app.app_context():
        assert get_store().invitations.tally(sid) == good
