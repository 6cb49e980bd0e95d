"""The rebuild command: recount counters from stored responses, check, repair."""

from __future__ import annotations

import random

from shared.extensions import get_store

from tests.support.factories import builtin, complete_answers


def test_rebuild_checks_and_repairs_counters(runner, client, app, tenant, open_survey):
    rng = random.Random(8)
    items = [{"submission_id": f"r{i}", "answers": complete_answers(builtin("how-you-buy"), rng),
              "complete": i != 3} for i in range(25)]
    client.post(f"/v1/surveys/{open_survey['id']}/responses:batch", json={"responses": items},
                headers=tenant.headers())
    sid = open_survey["id"]
    ok = runner.invoke(args=["rebuild", sid, "--check"])
    assert ok.exit_code == 0 and "25 responses: the live counters match a recount" in ok.output

    with app.app_context():
        store = get_store()
        good = store.aggregates.for_survey(sid)
        damaged = {cell: dict(counters) for cell, counters in good.items()}
        first = sorted(damaged)[0]
        damaged[first]["n"] += 5  # as if a crash had left a counter wrong
        damaged["customer|region=|size=small|tenure=ancient"] = {"n": 1}
        store.aggregates.replace_survey(sid, damaged)

    check = runner.invoke(args=["rebuild", sid, "--check"])
    assert check.exit_code != 0 and "2 counter(s) differed" in check.output
    assert f"{first}  n: live {good[first]['n'] + 5}, recount {good[first]['n']}" in check.output
    repaired = runner.invoke(args=["rebuild", sid])
    assert repaired.exit_code == 0 and "replaced" in repaired.output
    with app.app_context():
        assert get_store().aggregates.for_survey(sid) == good
