"""The customers' voice in the report and the brief: the recommend split counted by hand, and
the suggestions chosen by the documented rule (complete answers only, never from a hidden
group, nothing identifying, most frequent first, attributed only to groups of 10 or more),
printed escaped."""

from __future__ import annotations

import random

import pytest

from pdf_service.brief.render import render_brief
from scoring_service.domain import survey_report
from scoring_service.voice import MAX_QUOTES

from tests.support.pdfcheck import pdf_text, words
from tests.support.populations import healthy_customer, healthy_vendor


def _customer(rng, region, size, nps, suggestion=None, complete=True, number=[0]):
    number[0] += 1
    answers = healthy_customer(rng, "new", size)
    answers["nps"] = nps
    answers.pop("suggestion")
    if suggestion is not None:
        answers["suggestion"] = suggestion
    return {"submission_id": f"c{number[0]}", "answers": answers,
            "attributes": {"region": region}, "complete": complete}


def _post(client, tenant, survey_id, items):
    response = client.post(f"/v1/surveys/{survey_id}/responses:batch",
                           json={"responses": items}, headers=tenant.headers())
    assert response.status_code == 200, response.get_json()
    assert all(r["status"] == "created" for r in response.get_json()["results"])


def test_the_voice_follows_its_rule_and_prints_escaped(client, tenant, open_survey, store):
    rng = random.Random(11)
    items = []
    # Four americas customers only: that region is hidden, so their (most common) text is not
    # quoted however often it is given.
    items += [_customer(rng, "americas", "small", 10, "Hidden-cell wish") for _ in range(4)]
    # Partial answers never count, nor do texts that could identify someone.
    items += [_customer(rng, "emea", "small", 9, "Partial wish", complete=False)
              for _ in range(6)]
    items += [_customer(rng, "emea", "small", 9, "Mail me at bob@example.com")
              for _ in range(5)]
    items += [_customer(rng, "emea", "small", 9, "Call +44 20 7946 0958") for _ in range(5)]
    # The texts that may be quoted: counted case- and space-insensitively.
    items += [_customer(rng, "emea", "large", 3, "Fewer forms,  please.") for _ in range(3)]
    items += [_customer(rng, "emea", "small", 7, "fewer forms, please.") for _ in range(1)]
    # Seven midsize customers: a group shown as an indication only, too small to be named.
    items += [_customer(rng, "emea", "midsize", 8, "<b>Bold & brave</b>") for _ in range(3)]
    items += [_customer(rng, "emea", "midsize", 8) for _ in range(4)]
    items += [_customer(rng, "emea", "large", 6, "Publish pricing.") for _ in range(2)]
    items += [_customer(rng, "emea", "large", 10, "Only once.")]
    items += [_customer(rng, "emea", "small", 9) for _ in range(10)]
    items += [{"submission_id": "v1", "instrument": "vendor",
               "answers": healthy_vendor(rng, "sales")}]
    _post(client, tenant, open_survey["id"], items)

    report = survey_report(store, tenant.org.id, open_survey["id"], [])
    hidden = next(s for s in report["segments"] if s["key"] == "region=americas")
    assert hidden["status"] == "suppressed"
    voice = report["voice"]
    quotes = voice["suggestions"]
    assert [(q["text"], q["count"]) for q in quotes] == [
        ("Fewer forms, please.", 4), ("<b>Bold & brave</b>", 3), ("Publish pricing.", 2)]
    assert len(quotes) == MAX_QUOTES
    sizes = {s["label"]: s["n"] for s in report["segments"] if s["status"] != "suppressed"}
    for quote in quotes:  # attributed to a group of 10 or more that every writer belongs to
        assert quote["group"] is None or sizes[quote["group"]] >= 10
    midsize = next(s for s in report["segments"] if s["key"] == "size=midsize")
    assert midsize["n"] == 7  # shown, but too small to have a quote attributed to it
    # Every writer of the midsize text is also in emea and new (34 and 38 customers): the
    # quote goes to the larger of those, never to the seven midsize customers.
    assert quotes[1]["group"] == "Tenure: new"

    # Likelihood to recommend, counted by hand over the 38 complete customer answers.
    answered = [i["answers"]["nps"] for i in items if i.get("complete", True)
                and i.get("instrument") != "vendor"]
    assert voice["recommend"]["n"] == len(answered) == 38
    for name, values in (("detractors", range(0, 7)), ("passives", (7, 8)),
                         ("promoters", (9, 10))):
        share = 100 * sum(v in values for v in answered) / len(answered)
        assert voice["recommend"][name]["pct"] == round(share, 1)
        low, high = voice["recommend"][name]["interval"]
        assert low < share < high or share in (0.0, 100.0)
    nps = report["overall"]["nps"]["value"]
    assert abs(voice["recommend"]["promoters"]["pct"] - voice["recommend"]["detractors"]["pct"]
               - nps) <= 0.11

    text = words(pdf_text(render_brief(report), layout=False))
    assert "“<b>Bold & brave</b>”" in text  # printed as written, not read as markup
    assert "4 customers in Tenure: new wrote this" in text
    assert "Hidden-cell wish" not in text and "bob@example.com" not in text
    assert "Partial wish" not in text
    split = voice["recommend"]["promoters"]
    assert f"Promoters (9–10): {split['pct']:.1f}%" in text


def _quotes_reading_every_response(store, survey_id, report, min_group, hidden):
    """The rule read response by response, as the report did before it read grouped answers:
    an independent reference for what the grouped read must give (each text's count, first
    position and the groups holding all who gave it)."""
    from shared.cells import parse_cell_key
    from scoring_service.voice import MAX_SCANNED, _IDENTIFYING, _clean, _within, chosen_quotes

    shown = [s for s in report["segments"] if s["status"] != "suppressed" and s["filters"]]
    by_text = {}
    for scanned, response in enumerate(store.responses.iter_survey(survey_id,
                                                                   instrument="customer")):
        if scanned >= MAX_SCANNED:
            break
        attributes = parse_cell_key(response.cell_key)[1]
        if not response.complete or any(_within(attributes, f) for f in hidden):
            continue
        raw = response.answers.get("suggestion")
        if not isinstance(raw, str) or not raw.strip() or _IDENTIFYING.search(raw):
            continue
        entry = by_text.setdefault(" ".join(raw.lower().split()), {
            "text": _clean(raw), "count": 0, "order": scanned, "groups": None})
        entry["count"] += 1
        mine = {s["key"] for s in shown if _within(attributes, s["filters"])}
        entry["groups"] = mine if entry["groups"] is None else entry["groups"] & mine
    # Choosing and attributing the texts is shared: what differs is how they were read.
    return chosen_quotes(by_text, shown, min_group)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quotes_from_grouped_answers_equal_quotes_read_response_by_response(
        client, tenant, open_survey, store, seed):
    from scoring_service.scoring.model import load_model
    from scoring_service.voice import _small_hidden_groups

    rng = random.Random(seed)
    wishes = ["Fewer forms", "fewer  FORMS", "Publish pricing.", "Call 020 7946 0958", "",
              "Faster quotes", "A demo, please", None]
    items = [_customer(rng, rng.choice(["emea", "emea", "americas"]),
                       rng.choice(["small", "midsize", "large"]), rng.randint(0, 10),
                       rng.choice(wishes), complete=rng.random() < 0.85)
             for _ in range(rng.randint(60, 120))]
    items.append({"submission_id": f"v{seed}", "instrument": "vendor",
                  "answers": healthy_vendor(rng, "sales")})
    _post(client, tenant, open_survey["id"], items)
    report = survey_report(store, tenant.org.id, open_survey["id"], ["size,region"])
    limits = load_model()["suppression"]
    hidden = _small_hidden_groups(report, store.aggregates.for_survey(open_survey["id"]),
                                  limits["hide_below"])
    expected = _quotes_reading_every_response(store, open_survey["id"], report,
                                              limits["insufficient_below"], hidden)
    assert len(expected) == MAX_QUOTES and expected[0]["count"] > 1
    assert report["voice"]["suggestions"] == expected
