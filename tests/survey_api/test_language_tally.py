"""The report says how many answered in each language, from counters kept with the cell's
answer counters: counted at ingest (single, batch, CSV import, web form) in the same write,
taken back out on erasure, recounted by rebuild, never twice for a retry; SQLite and MongoDB.

Expected tallies are counted from what the test posts, never read from the store."""

from __future__ import annotations

import csv
import random
import uuid
from collections import Counter

import pytest

import scoring_service
import survey_api
from shared.cells import languages_answered
from shared.extensions import get_store
from shared.storage import open_store

from tests.conftest import Tenant
from tests.support.factories import builtin, complete_answers
from tests.support.forms import answer_every_page

CUSTOMER, VENDOR = builtin("how-you-buy"), builtin("how-we-sell")


@pytest.fixture(params=["sqlite", "mongomock"])
def world(request, settings):
    if request.param == "mongomock":
        settings = settings.with_overrides(
            store_url=f"mongomock://localhost/t{uuid.uuid4().hex[:8]}")
        open_store(settings.store_url).initialize()
    app = survey_api.create_app(settings)
    with app.app_context():
        tenant = Tenant(get_store(), "Acme Analytics")
    client = app.test_client()
    survey = client.post("/v1/surveys", json={
        "name": "Languages", "customer_instrument": {"id": "how-you-buy", "version": 1},
        "branding": {"vendor_name": "Acme Analytics"},
        "settings": {"anonymous_link": True}}, headers=tenant.headers()).get_json()
    assert client.post(f"/v1/surveys/{survey['id']}/open",
                       headers=tenant.headers()).status_code == 200
    return {"app": app, "client": client, "tenant": tenant, "survey": survey,
            "scoring": scoring_service.create_app(settings).test_client(),
            "runner": app.test_cli_runner()}


def _languages(world) -> dict:
    report = world["scoring"].get(f"/v1/surveys/{world['survey']['id']}/report",
                                  headers=world["tenant"].headers())
    assert report.status_code == 200, report.get_json()
    return report.get_json()["languages"]


def test_every_way_in_counts_once_and_erasure_and_rebuild_keep_it_exact(world, tmp_path):
    client, headers, sid = world["client"], world["tenant"].headers(), world["survey"]["id"]
    url = f"/v1/surveys/{sid}/responses"
    rng = random.Random(19)
    expected = {"customer": Counter(), "vendor": Counter()}
    languages = ["en", "en", "de", "fr", "pt-BR", None]
    items = []
    for i in range(40):
        kind = "vendor" if i % 5 == 0 else "customer"
        language = rng.choice(languages)
        item = {"submission_id": f"b{i}", "instrument": kind,
                "answers": complete_answers(VENDOR if kind == "vendor" else CUSTOMER, rng)}
        if language:
            item["language"] = language
            expected[kind][language] += 1
        items.append(item)
    items.append({"submission_id": "draft", "answers": {}, "complete": False, "language": "de"})
    batch = client.post(f"{url}:batch", json={"responses": items}, headers=headers)
    assert batch.status_code in (200, 207), batch.get_json()
    one = client.post(url, json={"submission_id": "single", "language": "de",
                                 "answers": complete_answers(CUSTOMER, rng)}, headers=headers)
    assert one.status_code == 201
    expected["customer"]["de"] += 1

    def tally():
        return {kind: dict(counts) for kind, counts in expected.items() if counts}
    assert _languages(world) == tally()

    # Retries (the whole batch, the single one with another language) add nothing.
    again = client.post(f"{url}:batch", json={"responses": items}, headers=headers)
    assert {r["status"] for r in again.get_json()["results"]} == {"duplicate"}
    retried = client.post(url, json={"submission_id": "single", "language": "fr",
                                     "answers": one.get_json()["answers"]}, headers=headers)
    assert retried.status_code == 200
    assert _languages(world) == tally()

    # A CSV import with a language column.
    questions = [q["id"] for s in CUSTOMER["sections"] for q in s["questions"]]
    source = tmp_path / "history.csv"
    with source.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["submission_id", "language"] + questions)
        writer.writeheader()
        for i, language in enumerate(["fr", "fr", "it", "German!"]):
            answers = complete_answers(CUSTOMER, rng)
            writer.writerow({"submission_id": f"h{i}", "language": language,
                             **{k: ";".join(v) if isinstance(v, list) else v
                                for k, v in answers.items()}})
    imported = world["runner"].invoke(args=["import-responses", sid, str(source)])
    assert "3 created" in imported.output and "1 rejected" in imported.output, imported.output
    expected["customer"].update({"fr": 2, "it": 1})
    assert _languages(world) == tally()

    # The web form (the anonymous link): v1 is offered in English only, so a French browser
    # still answers in English, and that is what counts.
    _answer_on_the_web(client, sid)
    expected["customer"]["en"] += 1
    assert _languages(world) == tally()

    # Erasing a German respondent takes one German answer out.
    erased = client.post(f"/v1/surveys/{sid}/erasures", json={"submission_id": "single"},
                         headers=headers)
    assert erased.status_code == 200
    expected["customer"]["de"] -= 1
    assert _languages(world) == tally()

    # A database from before the tally: the language counters are missing; rebuild recounts.
    with world["app"].app_context():
        store = get_store()
        store.aggregates.fold_pending()
        live = store.aggregates.for_survey(sid)
        store.aggregates.replace_survey(sid, {
            cell: {k: v for k, v in counters.items() if not k.startswith("lang:")}
            for cell, counters in live.items()})
    assert _languages(world) == {}
    check = world["runner"].invoke(args=["rebuild", sid, "--check"])
    assert check.exit_code != 0 and "lang:fr" in check.output
    assert world["runner"].invoke(args=["rebuild", sid]).exit_code == 0
    assert _languages(world) == tally()


def _answer_on_the_web(client, survey_id):
    answers = complete_answers(CUSTOMER, random.Random(3))
    answers["top_sources"] = answers["info_sources"][:3]  # the form ranks only what is ticked
    done = answer_every_page(client, f"/a/{survey_id}", CUSTOMER, answers,
                             headers={"Accept-Language": "fr"})
    assert done.headers["Location"].endswith("/thanks")


def test_the_tally_sums_language_counters_over_cells_per_kind():
    cells = {"customer|size=large": {"n": 5, "lang:en": 3, "lang:de": 2, "q=1": 5},
             "customer|size=small": {"n": 4, "lang:de": 4},
             "vendor|role=sales": {"n": 2, "lang:en": 2, "lang:fr": 0}}
    assert languages_answered(cells) == {"customer": {"de": 6, "en": 3},
                                         "vendor": {"en": 2}}
    assert list(languages_answered(cells)["customer"]) == ["de", "en"]  # most first
